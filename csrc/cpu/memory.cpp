// Allocation, copies and casts on the CPU.
#include "cpu/memory.h"

#include <sys/sysinfo.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/overlap.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

// Bytes of RAM plus swap, and the cgroup's memory limit when one is set: no allocation beyond
// this can ever be backed, however the kernel overcommits. Read once.
size_t machine_memory_bytes() {
  static const size_t bytes = [] {
    struct sysinfo info {};
    size_t total = SIZE_MAX;
    if (sysinfo(&info) == 0)
      total = (static_cast<size_t>(info.totalram) + static_cast<size_t>(info.totalswap)) * info.mem_unit;
    for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      if (FILE* f = std::fopen(path, "r")) {
        unsigned long long limit = 0;
        if (std::fscanf(f, "%llu", &limit) == 1 && limit > 0) total = std::min<size_t>(total, limit);
        std::fclose(f);
      }
    }
    return total;
  }();
  return bytes;
}

std::string human_bytes(double b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, ++u;
  std::ostringstream o;
  o.precision(u ? 3 : 0);
  o << std::fixed << b << " " << units[u];
  return o.str();
}

// PyTorch's words (a RuntimeError naming the size), with the tensor that asked.
[[noreturn]] void allocation_failed(const Shape& shape, DType dtype, size_t nbytes, const char* why) {
  std::ostringstream o;
  o << "empty: can't allocate memory: you tried to allocate " << nbytes << " bytes (" << human_bytes(double(nbytes))
    << ") for a " << dtype_name(dtype) << " tensor of shape " << shape_str(shape) << "; " << why;
  throw std::runtime_error(o.str());
}

// Large buffers freed by one training step are reused by the next: without
// this, every step maps fresh pages from the OS and pays a page fault per 4 KiB
// (several ms per step for a CNN's activations and gradients). Blocks are
// reused only at their exact (page-rounded) size. At most DEEPCORE_CPU_CACHE_MB
// MiB sit idle (default 1024, and never more than 1/8 of the machine's memory);
// beyond that a freed block goes back to the OS. DEEPCORE_CPU_CACHE=0 or
// DEEPCORE_CPU_CACHE_MB=0 turns the cache off; cpu_empty_cache() releases it.
class BlockCache {
 public:
  static constexpr size_t kMinBlock = size_t(1) << 16;
  static constexpr size_t kDefaultCapMiB = 1024;

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
      if (cached_ + bytes <= cap_) {
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
  const size_t cap_ = [] {
    const char* off = std::getenv("DEEPCORE_CPU_CACHE");
    if (off && off[0] == '0') return size_t(0);
    size_t mib = kDefaultCapMiB;
    if (const char* env = std::getenv("DEEPCORE_CPU_CACHE_MB")) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(env, &end, 10);
      if (end != env && *end == '\0') mib = static_cast<size_t>(std::min<unsigned long long>(v, SIZE_MAX >> 21));
    }
    return std::min(mib << 20, machine_memory_bytes() / 8);
  }();
  const bool enabled_ = cap_ > 0;
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
  if (n > 0 && static_cast<uint64_t>(n) > (uint64_t(1) << 62) / item) {
    std::ostringstream o;
    o << "empty: can't allocate memory: a " << dtype_name(dtype) << " tensor of shape " << shape_str(shape)
      << " needs " << n << " x " << item << " bytes, more than 2**62";
    throw std::runtime_error(o.str());
  }
  // Whole pages for big blocks (so the cache finds equal sizes), whole cache
  // lines otherwise (aligned_alloc requires a multiple of the alignment).
  size_t nbytes = static_cast<size_t>(n) * item;
  size_t padded = nbytes >= BlockCache::kMinBlock ? (nbytes + 4095) / 4096 * 4096 : (nbytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = block_cache().acquire(padded);
  if (!p) {
    // Refused here, not by the OOM killer: an overcommitting kernel hands out the address space
    // and kills the process when the pages are first touched.
    if (padded > machine_memory_bytes())
      allocation_failed(shape, dtype, nbytes,
                        ("more than this machine's memory (" + human_bytes(double(machine_memory_bytes())) +
                         " of RAM and swap, or the cgroup's limit)").c_str());
    p = std::aligned_alloc(64, padded);
    if (!p) {
      block_cache().empty_cache();  // idle blocks may be what is missing
      p = std::aligned_alloc(64, padded);
    }
    if (!p) allocation_failed(shape, dtype, nbytes, "the system is out of memory");
  }
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

void copy_(const NDArray& dst, const NDArray& src_in) {
  check_device(dst, Device::CPU, "copy_");
  check_device(src_in, Device::CPU, "copy_");
  Shape b = broadcast_shapes(dst.shape, src_in.shape, "copy_");
  DC_CHECK(b == dst.shape, "copy_: cannot copy a tensor of shape " << shape_str(src_in.shape)
                                                                   << " into one of shape " << shape_str(dst.shape));
  NDArray src = src_in;
  if (has_internal_overlap(dst) && !repeated_writes_agree(dst, broadcast_strides(src, dst.shape)))
    throw internal_overlap_error("copy_");
  const Overlap ov = overlap_of(dst, src);
  if (ov == Overlap::Partial) throw partial_overlap_error("copy_");
  if (ov == Overlap::Interleaved) {  // read a private copy, so that no write lands before its element is read
    NDArray tmp = empty(src.shape, src.dtype);
    copy_(tmp, src);
    src = tmp;
  }
  if (ov != Overlap::Full) {  // Full: a copy onto itself
    dispatch_dtype(dst.dtype, [&]<class To>() {
      dispatch_dtype(src.dtype, [&]<class From>() { copy_typed<To, From>(dst, src); });
    });
  }
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
