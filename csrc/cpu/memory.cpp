// Allocation, copies and casts on the CPU.
#include "cpu/memory.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu/strided_loop.h"

namespace deepcore::cpu {

NDArray empty(const Shape& shape, DType dtype) {
  int64_t n = numel_of(shape);
  size_t item = itemsize(dtype);
  if (n > 0 && static_cast<uint64_t>(n) > (uint64_t(1) << 62) / item)
    throw ValueError("empty: shape " + shape_str(shape) + " is too large to allocate");
  // Round up to whole cache lines: aligned_alloc requires a multiple of the alignment.
  size_t nbytes = static_cast<size_t>(n) * item;
  size_t padded = (nbytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = std::aligned_alloc(64, padded);
  if (!p) throw std::bad_alloc();
  auto st = std::make_shared<Storage>();
  st->data = p;
  st->nbytes = nbytes;
  st->device = Device::CPU;
  st->deleter = [](void* q) { std::free(q); };
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
