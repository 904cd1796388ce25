// Allocation, host<->device copies and dtype casts on CUDA devices.
#include "cuda/memory.h"

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/overlap.h"

namespace deepcore::cuda {

namespace {

[[noreturn]] void throw_cuda(cudaError_t err, const char* op, const char* what) {
  std::ostringstream o;
  o << op << ": CUDA error: " << cudaGetErrorString(err) << " (" << cudaGetErrorName(err) << " in " << what
    << ")";
  throw CudaError(o.str());
}

// Checks a runtime call; clears a non-sticky error so later calls do not see it.
#define DC_CUDA_CHECK(expr, op)                      \
  do {                                               \
    cudaError_t dc_err_ = (expr);                    \
    if (dc_err_ != cudaSuccess) {                    \
      (void)cudaGetLastError();                      \
      throw_cuda(dc_err_, (op), #expr);              \
    }                                                \
  } while (0)

// ---- device count ----------------------------------------------------------

std::atomic<int> g_device_count{-1};
std::atomic<int> g_device_count_error{0};

// ---- caching allocator -----------------------------------------------------
//
// Freed blocks are kept per (device, rounded size) and handed out again to the
// next request of the same rounded size. All work runs on the legacy default
// stream, so a block freed while a kernel that reads it is still queued is only
// reused by work queued after that kernel. When cudaMalloc fails, the cache of
// that device is released and the allocation retried once.

size_t round_size(size_t n) {
  const size_t small = 512, large = size_t(1) << 20;
  if (n <= large) return (n + small - 1) / small * small;
  return (n + large - 1) / large * large;
}

class Allocator {
 public:
  Allocator() {
    const char* env = std::getenv("DEEPCORE_CUDA_CACHING");
    enabled_ = !(env && (std::strcmp(env, "0") == 0 || std::strcmp(env, "false") == 0 ||
                         std::strcmp(env, "off") == 0));
  }

  // The caller has selected device `dev`.
  void* allocate(size_t bytes, int dev, const char* op) {
    if (enabled_) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& bucket = cache_[dev][bytes];
      if (!bucket.empty()) {
        void* p = bucket.back();
        bucket.pop_back();
        cached_[slot(dev)] -= static_cast<int64_t>(bytes);
        count_in(bytes, dev);
        return p;
      }
    }
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      release_cached(dev);
      err = cudaMalloc(&p, bytes);
    }
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      std::ostringstream o;
      o << op << ": CUDA error: " << cudaGetErrorString(err) << " (cudaMalloc of " << bytes
        << " bytes on cuda:" << dev << ")";
      throw CudaError(o.str());
    }
    count_in(bytes, dev);
    return p;
  }

  // Storage deleter: must never throw (it runs in a destructor, possibly at exit).
  void release(void* p, size_t bytes, int dev) noexcept {
    if (!p) return;
    in_use_[slot(dev)] -= static_cast<int64_t>(bytes);
    if (enabled_) {
      try {
        std::lock_guard<std::mutex> lock(mu_);
        cache_[dev][bytes].push_back(p);
        cached_[slot(dev)] += static_cast<int64_t>(bytes);
        return;
      } catch (...) {
        // fall through: free it now
      }
    }
    free_on(p, dev);
  }

  // torch.cuda's statistics: bytes held by live arrays (block sizes), their peak, and the idle cache.
  int64_t in_use(int dev) const { return in_use_[slot(dev)].load(); }
  int64_t peak(int dev) const { return peak_[slot(dev)].load(); }
  int64_t cached(int dev) const { return cached_[slot(dev)].load(); }
  void reset_peak(int dev) { peak_[slot(dev)].store(in_use_[slot(dev)].load()); }

  // cudaFree every cached block of device `dev` (all devices when dev < 0).
  void release_cached(int dev) noexcept {
    std::vector<std::pair<int, void*>> blocks;
    try {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [d, buckets] : cache_) {
        if (dev >= 0 && d != dev) continue;
        for (auto& [size, ptrs] : buckets) {
          for (void* p : ptrs) blocks.emplace_back(d, p);
          cached_[slot(d)] -= static_cast<int64_t>(size * ptrs.size());
          ptrs.clear();
        }
      }
    } catch (...) {
      return;
    }
    for (auto& [d, p] : blocks) free_on(p, d);
  }

 private:
  static void free_on(void* p, int dev) noexcept {
    int prev = -1;
    bool switched = false;
    if (cudaGetDevice(&prev) == cudaSuccess && prev != dev) switched = cudaSetDevice(dev) == cudaSuccess;
    (void)cudaFree(p);  // fails harmlessly (cudaErrorCudartUnloading) during process exit
    if (switched) (void)cudaSetDevice(prev);
    (void)cudaGetLastError();
  }

  static constexpr int kMaxDevices = 64;
  static int slot(int dev) { return dev >= 0 && dev < kMaxDevices ? dev : kMaxDevices - 1; }
  void count_in(size_t bytes, int dev) {
    const int64_t now = in_use_[slot(dev)] += static_cast<int64_t>(bytes);
    int64_t seen = peak_[slot(dev)].load();
    while (now > seen && !peak_[slot(dev)].compare_exchange_weak(seen, now)) {
    }
  }

  bool enabled_ = true;
  std::mutex mu_;
  std::unordered_map<int, std::unordered_map<size_t, std::vector<void*>>> cache_;
  std::atomic<int64_t> in_use_[kMaxDevices] = {};
  std::atomic<int64_t> peak_[kMaxDevices] = {};
  std::atomic<int64_t> cached_[kMaxDevices] = {};
};

// Never destroyed: Storage deleters may run during interpreter shutdown.
Allocator& allocator() {
  static Allocator* a = new Allocator();
  return *a;
}

// ---- dtype helpers -----------------------------------------------------------

template <class T>
struct Tag {
  using type = T;
};

// Calls f(Tag<C type>{}) for a dtype. Bool is stored as uint8_t 0/1.
template <class F>
void dispatch_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f(Tag<float>{});
    case DType::Float64: return f(Tag<double>{});
    case DType::Int64: return f(Tag<int64_t>{});
    case DType::Bool: return f(Tag<uint8_t>{});
  }
  throw ValueError("cuda: unknown dtype");
}

template <class D, class S>
__host__ __device__ __forceinline__ D convert(S v) {
  if constexpr (std::is_same_v<D, uint8_t>) {
    return v != S(0) ? uint8_t(1) : uint8_t(0);
  } else {
    return static_cast<D>(v);
  }
}

// ---- kernels -------------------------------------------------------------------

template <class T>
__global__ void fill_kernel(T* __restrict__ p, int64_t n, T v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    p[i] = v;
}

// dst and src are both contiguous with the same number of elements.
template <class D, class S>
__global__ void cast_contig_kernel(D* __restrict__ dst, const S* __restrict__ src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    dst[i] = convert<D>(src[i]);
}

// Operand 0 is dst, operand 1 is src (broadcast strides).
template <class D, class S, class I>
__global__ void copy_strided_kernel(D* __restrict__ dst, const S* __restrict__ src, I n, detail::Indexer<2> ix) {
  for (I i = blockIdx.x * I(blockDim.x) + threadIdx.x; i < n; i += I(blockDim.x) * gridDim.x) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

// ---- host helpers ----------------------------------------------------------------

NDArray make_view(std::shared_ptr<Storage> st, const Shape& shape, DType dtype) {
  NDArray a;
  a.storage = std::move(st);
  a.offset = 0;
  a.shape = shape;
  a.strides = contiguous_strides(shape);
  a.dtype = dtype;
  return a;
}

size_t checked_nbytes(const Shape& shape, DType dtype, const char* op) {
  int64_t n = numel_of(shape);
  DC_CHECK(n <= INT64_MAX / static_cast<int64_t>(itemsize(dtype)),
           op << ": shape " << shape_str(shape) << " is too large");
  return static_cast<size_t>(n) * itemsize(dtype);
}

// Copies a strided CPU array into a contiguous host buffer.
void host_gather(const NDArray& a, char* dst) {
  const int64_t n = a.numel();
  if (n == 0) return;
  const size_t isz = a.item_size();
  const Shape* st[1] = {&a.strides};
  auto c = detail::collapse<1>(a.shape, st, "to_device");
  const int nd = c.ndim;
  const int64_t inner = c.shape[nd - 1];
  const int64_t inner_stride = c.strides[0][nd - 1];
  const char* base = static_cast<const char*>(a.raw());
  int64_t idx[detail::kMaxDims] = {0};
  for (int64_t done = 0; done < n; done += inner) {
    int64_t off = 0;
    for (int d = 0; d < nd - 1; ++d) off += idx[d] * c.strides[0][d];
    const char* s = base + off * static_cast<int64_t>(isz);
    if (inner_stride == 1) {
      std::memcpy(dst, s, inner * isz);
    } else {
      const int64_t step = inner_stride * static_cast<int64_t>(isz);
      switch (isz) {
        case 1:
          for (int64_t j = 0; j < inner; ++j) dst[j] = s[j * step];
          break;
        case 4:
          for (int64_t j = 0; j < inner; ++j) std::memcpy(dst + j * 4, s + j * step, 4);
          break;
        default:
          for (int64_t j = 0; j < inner; ++j) std::memcpy(dst + j * isz, s + j * step, isz);
      }
    }
    dst += inner * isz;
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Copies src (broadcast to dst.shape) into dst, converting dtypes. No checks.
void copy_impl(const NDArray& dst, const NDArray& src_in, const char* op) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  NDArray src = src_in;
  Shape sst = broadcast_strides(src, dst.shape);
  const Overlap ov = overlap_of(dst, src);
  if (ov == Overlap::Partial || ov == Overlap::Interleaved) {
    // Read the source through a private copy so that writes cannot clobber it.
    NDArray tmp = empty(src.shape, src.dtype, src.storage->device_index);
    copy_impl(tmp, src, op);
    src = tmp;
    sst = broadcast_strides(src, dst.shape);
  }
  const bool same_shape = src.shape == dst.shape;
  if (same_shape && src.dtype == dst.dtype && src.storage == dst.storage && src.offset == dst.offset &&
      src.strides == dst.strides)
    return;  // copying a view onto itself
  if (same_shape && src.is_contiguous() && dst.is_contiguous()) {
    if (src.dtype == dst.dtype) {
      DC_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), static_cast<size_t>(n) * dst.item_size(),
                                    cudaMemcpyDeviceToDevice, 0),
                    op);
      return;
    }
    dispatch_dtype(dst.dtype, [&](auto dt) {
      using D = typename decltype(dt)::type;
      dispatch_dtype(src.dtype, [&](auto stag) {
        using S = typename decltype(stag)::type;
        DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, cast_contig_kernel<D, S>)(dst.data<D>(),
                                                                                             src.data<S>(), n);
      });
    });
    return;
  }
  const Shape* strides[2] = {&dst.strides, &sst};
  auto c = detail::collapse<2>(dst.shape, strides, op);
  detail::Indexer<2> ix(c);
  dispatch_dtype(dst.dtype, [&](auto dt) {
    using D = typename decltype(dt)::type;
    dispatch_dtype(src.dtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      if (n <= INT32_MAX)
        DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, copy_strided_kernel<D, S, uint32_t>)(
            dst.data<D>(), src.data<S>(), static_cast<uint32_t>(n), ix);
      else
        DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, copy_strided_kernel<D, S, int64_t>)(
            dst.data<D>(), src.data<S>(), n, ix);
    });
  });
}

}  // namespace

// ---- public API ----------------------------------------------------------------

int device_count() {
  int cached = g_device_count.load();
  if (cached >= 0) return cached;
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    // No driver, no device, or a driver older than the runtime: report 0.
    (void)cudaGetLastError();
    g_device_count_error.store(static_cast<int>(err));
    n = 0;
  }
  if (n < 0) n = 0;
  g_device_count.store(n);
  return n;
}

void synchronize() {
  int n = device_count();
  for (int d = 0; d < n; ++d) {
    detail::DeviceGuard g(d, "synchronize");
    DC_CUDA_CHECK(cudaDeviceSynchronize(), "synchronize");
  }
}

std::string device_name(int index) {
  int n = device_count();
  DC_CHECK(index >= 0 && index < n,
           "device_name: CUDA device index " << index << " out of range (" << n << " device(s) available)");
  cudaDeviceProp prop;
  DC_CUDA_CHECK(cudaGetDeviceProperties(&prop, index), "device_name");
  return std::string(prop.name);
}

void empty_cache() { allocator().release_cached(-1); }
int64_t memory_allocated(int device_index) { return allocator().in_use(device_index); }
int64_t max_memory_allocated(int device_index) { return allocator().peak(device_index); }
int64_t memory_reserved(int device_index) {
  return allocator().in_use(device_index) + allocator().cached(device_index);
}
void reset_peak_memory_stats(int device_index) { allocator().reset_peak(device_index); }

NDArray empty(const Shape& shape, DType dtype, int device_index) {
  const size_t nbytes = checked_nbytes(shape, dtype, "empty");
  detail::DeviceGuard g(device_index, "empty");
  auto st = std::make_shared<Storage>();
  st->device = Device::CUDA;
  st->device_index = device_index;
  st->nbytes = nbytes;
  if (nbytes > 0) {
    const size_t rounded = round_size(nbytes);
    st->data = allocator().allocate(rounded, device_index, "empty");
    st->deleter = [rounded, device_index](void* p) { allocator().release(p, rounded, device_index); };
  }
  return make_view(std::move(st), shape, dtype);
}

NDArray full(const Shape& shape, double value, DType dtype, int device_index) {
  detail::DeviceGuard g(device_index, "full");
  NDArray out = empty(shape, dtype, device_index);
  const int64_t n = out.numel();
  if (n == 0) return out;
  if (value == 0.0 && !std::signbit(value)) {
    DC_CUDA_CHECK(cudaMemsetAsync(out.raw(), 0, static_cast<size_t>(n) * out.item_size(), 0), "full");
    return out;
  }
  dispatch_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    DEEPCORE_LAUNCH("full", detail::grid_for(n), detail::kThreads, fill_kernel<T>)(out.data<T>(), n,
                                                                                   convert<T>(value));
  });
  return out;
}

NDArray to_device(const NDArray& cpu_array, int device_index) {
  check_device(cpu_array, Device::CPU, "to_device");
  detail::DeviceGuard g(device_index, "to_device");
  NDArray out = empty(cpu_array.shape, cpu_array.dtype, device_index);
  const size_t nbytes = static_cast<size_t>(out.numel()) * out.item_size();
  if (nbytes == 0) return out;
  if (cpu_array.is_contiguous()) {
    DC_CUDA_CHECK(cudaMemcpy(out.raw(), cpu_array.raw(), nbytes, cudaMemcpyHostToDevice), "to_device");
  } else {
    std::vector<char> tmp(nbytes);
    host_gather(cpu_array, tmp.data());
    DC_CUDA_CHECK(cudaMemcpy(out.raw(), tmp.data(), nbytes, cudaMemcpyHostToDevice), "to_device");
  }
  return out;
}

NDArray to_host(const NDArray& gpu_array) {
  detail::require_cuda(gpu_array, "to_host");
  detail::DeviceGuard g(gpu_array.storage->device_index, "to_host");
  NDArray src = contiguous(gpu_array);
  const size_t nbytes = static_cast<size_t>(src.numel()) * src.item_size();
  const size_t alloc = nbytes == 0 ? 64 : (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, alloc);
  if (!p) throw std::bad_alloc();
  auto st = std::make_shared<Storage>();
  st->data = p;
  st->nbytes = nbytes;
  st->device = Device::CPU;
  st->device_index = 0;
  st->deleter = [](void* q) { std::free(q); };
  if (nbytes > 0) DC_CUDA_CHECK(cudaMemcpy(p, src.raw(), nbytes, cudaMemcpyDeviceToHost), "to_host");
  return make_view(std::move(st), src.shape, src.dtype);
}

NDArray contiguous(const NDArray& a) {
  detail::require_cuda(a, "contiguous");
  if (a.is_contiguous()) return a;
  NDArray out = empty(a.shape, a.dtype, a.storage->device_index);
  detail::DeviceGuard g(a.storage->device_index, "contiguous");
  copy_impl(out, a, "contiguous");
  return out;
}

void copy_(const NDArray& dst, const NDArray& src) {
  detail::require_cuda(dst, "copy_");
  detail::require_cuda(src, "copy_");
  detail::require_same_device(dst, src, "copy_");
  bool ok = src.ndim() <= dst.ndim();
  for (int i = 0; ok && i < src.ndim(); ++i) {
    int64_t s = src.shape[src.ndim() - 1 - i], d = dst.shape[dst.ndim() - 1 - i];
    ok = s == d || s == 1;
  }
  DC_CHECK(ok, "copy_: cannot broadcast source " << describe(src) << " to destination " << describe(dst));
  // The CPU's rules (common/overlap.h): an expanded dst only where each location gets one value.
  if (has_internal_overlap(dst) && !repeated_writes_agree(dst, broadcast_strides(src, dst.shape)))
    throw internal_overlap_error("copy_");
  if (overlap_of(dst, src) == Overlap::Partial) throw partial_overlap_error("copy_");
  detail::DeviceGuard g(dst.storage->device_index, "copy_");
  copy_impl(dst, src, "copy_");
}

NDArray cast(const NDArray& a, DType dtype) {
  detail::require_cuda(a, "cast");
  NDArray out = empty(a.shape, dtype, a.storage->device_index);
  detail::DeviceGuard g(a.storage->device_index, "cast");
  copy_impl(out, a, "cast");
  return out;
}

// ---- detail ----------------------------------------------------------------------

namespace detail {

DeviceGuard::DeviceGuard(int index, const char* op) : index_(index) {
  int n = device_count();
  if (n == 0) {
    int e = g_device_count_error.load();
    std::ostringstream o;
    o << op << ": no CUDA device is available";
    if (e != 0) o << " (cudaGetDeviceCount: " << cudaGetErrorString(static_cast<cudaError_t>(e)) << ")";
    throw CudaError(o.str());
  }
  DC_CHECK(index >= 0 && index < n,
           op << ": CUDA device index " << index << " out of range (" << n << " device(s) available)");
  DC_CUDA_CHECK(cudaGetDevice(&prev_), op);
  if (prev_ != index) DC_CUDA_CHECK(cudaSetDevice(index), op);
}

DeviceGuard::~DeviceGuard() {
  if (prev_ >= 0 && prev_ != index_) (void)cudaSetDevice(prev_);
}

void check_launch(const char* op, const char* kernel) {
  cudaError_t err = cudaGetLastError();
#ifndef DEEPCORE_CUDA_EMULATOR
  // CUDA_LAUNCH_BLOCKING=1: wait for the kernel, so that a fault inside it is reported here, under
  // its own name, and not by whichever later call happens to see it (the emulator always waits).
  static const bool blocking = [] {
    const char* env = std::getenv("CUDA_LAUNCH_BLOCKING");
    return env && std::strcmp(env, "1") == 0;
  }();
  if (err == cudaSuccess && blocking) err = cudaDeviceSynchronize();
#endif
  if (err == cudaSuccess) return;
  std::ostringstream o;
  o << op << ": " << kernel << ": CUDA error: " << cudaGetErrorString(err) << " (" << cudaGetErrorName(err) << ")";
  throw CudaError(o.str());
}

void require_cuda(const NDArray& a, const char* op) {
  DC_CHECK(a.storage != nullptr, op << ": array has no storage");
  check_device(a, Device::CUDA, op);
}

void require_same_device(const NDArray& a, const NDArray& b, const char* op) {
  DC_CHECK(a.storage->device_index == b.storage->device_index,
           op << ": arrays are on different devices (cuda:" << a.storage->device_index << " and cuda:"
              << b.storage->device_index << ")");
}

}  // namespace detail

}  // namespace deepcore::cuda
