// Allocation, copies and casts on the CPU.
#include "cpu/memory.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

// Large buffers freed by one training step are reused by the next: without
// this, every step maps fresh pages from the OS and pays a page fault per 4 KiB
// (several ms per step for a CNN's activations and gradients). Blocks are
// reused only at their exact (page-rounded) size; at most kMaxCachedBytes sit
// idle. DEEPCORE_CPU_CACHE=0 turns it off; cpu_empty_cache() releases them.
class BlockCache {
 public:
  static constexpr size_t kMinBlock = size_t(1) << 16;
  static constexpr size_t kMaxCachedBytes = size_t(1) << 30;

  void* acquire(size_t bytes) {
    if (!enabled_ || bytes < kMinBlock) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }

  void release(void* p, size_t bytes) {
    if (enabled_ && bytes >= kMinBlock) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

  size_t empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t released = cached_;
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
    return released;
  }

 private:
  const bool enabled_ = [] {
    const char* env = std::getenv("DEEPCORE_CPU_CACHE");
    return !(env && env[0] == '0');
  }();
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

// Never destroyed: storages may be freed during interpreter shutdown, after
// static destructors would have run.
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();
  return *cache;
}

}  // namespace

size_t cpu_empty_cache() { return block_cache().empty_cache(); }

NDArray empty(const Shape& shape, DType dtype) {
  int64_t n = numel_of(shape);
  size_t item = itemsize(dtype);
  if (n > 0 && static_cast<uint64_t>(n) > (uint64_t(1) << 62) / item)
    throw ValueError("empty: shape " + shape_str(shape) + " is too large to allocate");
  // Whole pages for big blocks (so the cache finds equal sizes), whole cache
  // lines otherwise (aligned_alloc requires a multiple of the alignment).
  size_t nbytes = static_cast<size_t>(n) * item;
  size_t padded = nbytes >= BlockCache::kMinBlock ? (nbytes + 4095) / 4096 * 4096 : (nbytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = block_cache().acquire(padded);
  if (!p) p = std::aligned_alloc(64, padded);
  if (!p) throw std::bad_alloc();
  auto st = std::make_shared<Storage>();
  st->data = p;
  st->nbytes = nbytes;
  st->device = Device::CPU;
  st->deleter = [padded](void* q) { block_cache().release(q, padded); };
  NDArray a;
  a.storage = std::move(st);
  a.shape = shape;
  a.strides = contiguous_strides(shape);
  a.dtype = dtype;
  return a;
}

NDArray full(const Shape& shape, double value, DType dtype) {
  NDArray a = empty(shape, dtype);
  int64_t n = a.numel();
  dispatch_dtype(dtype, [&]<class T>() {
    T v = static_cast<T>(value);
    T* p = a.data<T>();
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
  return a;
}

template <class To, class From>
static void copy_typed(const NDArray& dst, const NDArray& src) {
  StridedLoop<2> loop(dst.shape, {dst.strides, broadcast_strides(src, dst.shape)});
  To* d = dst.data<To>();
  const From* s = src.data<From>();
  loop.run(kElementwiseGrain, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
    To* o = d + off[0];
    const From* i = s + off[1];
    if (st[0] == 1 && st[1] == 1) {
      if constexpr (std::is_same_v<To, From>) {
        std::memmove(o, i, n * sizeof(To));
      } else {
        for (int64_t j = 0; j < n; ++j) o[j] = static_cast<To>(i[j]);
      }
    } else {
      for (int64_t j = 0; j < n; ++j) o[j * st[0]] = static_cast<To>(i[j * st[1]]);
    }
  });
}

void copy_(const NDArray& dst, const NDArray& src) {
  check_device(dst, Device::CPU, "copy_");
  check_device(src, Device::CPU, "copy_");
  Shape b = broadcast_shapes(dst.shape, src.shape, "copy_");
  DC_CHECK(b == dst.shape, "copy_: cannot copy a tensor of shape " << shape_str(src.shape)
                                                                   << " into one of shape " << shape_str(dst.shape));
  dispatch_dtype(dst.dtype, [&]<class To>() {
    dispatch_dtype(src.dtype, [&]<class From>() { copy_typed<To, From>(dst, src); });
  });
  dst.bump_version();
}

NDArray contiguous(const NDArray& a) {
  check_device(a, Device::CPU, "contiguous");
  if (a.is_contiguous()) return a;
  NDArray out = empty(a.shape, a.dtype);
  copy_(out, a);
  return out;
}

NDArray cast(const NDArray& a, DType dtype) {
  check_device(a, Device::CPU, "cast");
  NDArray out = empty(a.shape, dtype);
  copy_(out, a);
  return out;
}

}  // namespace deepcore::cpu
