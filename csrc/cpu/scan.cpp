// cumsum, cumprod and cumprod's backward. A scan runs along `dim` one (outer, column block) at a
// time: the accumulators of a block of neighbouring columns sit in a small array, so every row of
// the block is read and written contiguously and the inner loop vectorizes.
#include "cpu/scan.h"

#include <algorithm>
#include <type_traits>

#include "common/parallel.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

constexpr int64_t kBlock = 256;  // columns per accumulator block

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;

struct Layout {
  int64_t outer = 1, n = 1, inner = 1;
};

Layout layout_of(const NDArray& a, int64_t dim, const char* op) {
  check_device(a, Device::CPU, op);
  DC_CHECK(a.ndim() >= 1, op << ": expected a tensor with at least one dimension, got a 0-d tensor");
  DC_CHECK(dim >= 0 && dim < a.ndim(), op << ": dim " << dim << " is out of range for a tensor of shape "
                                          << shape_str(a.shape));
  DC_CHECK_TYPE(a.dtype != DType::Bool, op << ": bool tensors are scanned as int64 (convert with .long() first)");
  Layout l;
  for (int64_t d = 0; d < dim; ++d) l.outer *= a.shape[d];
  l.n = a.shape[dim];
  for (int64_t d = dim + 1; d < a.ndim(); ++d) l.inner *= a.shape[d];
  return l;
}

// Calls fn(o, c0, c1) for every outer index and column block, split across threads.
template <class F>
void for_blocks(const Layout& l, const F& fn) {
  const int64_t blocks = (l.inner + kBlock - 1) / kBlock;
  const int64_t work = std::max<int64_t>(1, l.n * std::min(l.inner, kBlock));
  parallel_for(l.outer * blocks, std::max<int64_t>(1, 32768 / work), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks, c0 = (t % blocks) * kBlock;
      fn(o, c0, std::min(l.inner, c0 + kBlock));
    }
  });
}

template <bool PRODUCT>
NDArray scan(const NDArray& a, int64_t dim, bool reverse, const char* op) {
  const Layout l = layout_of(a, dim, op);
  NDArray src = contiguous(a);
  NDArray out = empty(a.shape, a.dtype);
  if (out.numel() == 0) return out;
  dispatch_dtype(a.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      const T* ps = src.data<T>();
      T* po = out.data<T>();
      for_blocks(l, [&](int64_t o, int64_t c0, int64_t c1) {
        Acc<T> acc[kBlock];
        std::fill(acc, acc + (c1 - c0), PRODUCT ? Acc<T>(1) : Acc<T>(0));
        for (int64_t s = 0; s < l.n; ++s) {
          const int64_t k = reverse ? l.n - 1 - s : s;
          const T* x = ps + (o * l.n + k) * l.inner;
          T* y = po + (o * l.n + k) * l.inner;
          for (int64_t c = c0; c < c1; ++c) {
            if constexpr (PRODUCT) acc[c - c0] *= static_cast<Acc<T>>(x[c]);
            else acc[c - c0] += static_cast<Acc<T>>(x[c]);
            y[c] = static_cast<T>(acc[c - c0]);
          }
        }
      });
    }
  });
  return out;
}

}  // namespace

NDArray cumsum(const NDArray& a, int64_t dim, bool reverse) { return scan<false>(a, dim, reverse, "cumsum"); }

NDArray cumprod(const NDArray& a, int64_t dim) { return scan<true>(a, dim, false, "cumprod"); }

NDArray cumprod_backward(const NDArray& grad, const NDArray& input, int64_t dim) {
  const Layout l = layout_of(input, dim, "cumprod_backward");
  DC_CHECK(grad.shape == input.shape, "cumprod_backward: grad " << shape_str(grad.shape) << " and input "
                                                                << shape_str(input.shape) << " differ in shape");
  DC_CHECK_TYPE(grad.dtype == input.dtype, "cumprod_backward: grad is " << dtype_name(grad.dtype) << " but input is "
                                                                        << dtype_name(input.dtype));
  NDArray x = contiguous(input), g = contiguous(grad);
  NDArray out = empty(input.shape, input.dtype);
  if (out.numel() == 0) return out;
  dispatch_float(input.dtype, "cumprod_backward", [&]<class T>() {
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    for_blocks(l, [&](int64_t o, int64_t c0, int64_t c1) {
      Acc<T> acc[kBlock];
      const int64_t w = c1 - c0;
      // Pass 1: out[k] = P[k-1], the product of x[0..k-1].
      std::fill(acc, acc + w, Acc<T>(1));
      for (int64_t k = 0; k < l.n; ++k) {
        const int64_t row = (o * l.n + k) * l.inner;
        for (int64_t c = c0; c < c1; ++c) {
          po[row + c] = static_cast<T>(acc[c - c0]);
          acc[c - c0] *= static_cast<Acc<T>>(px[row + c]);
        }
      }
      // Pass 2, from the end: S[k] = g[k] + x[k+1] * S[k+1]; out[k] *= S[k].
      std::fill(acc, acc + w, Acc<T>(0));
      for (int64_t k = l.n - 1; k >= 0; --k) {
        const int64_t row = (o * l.n + k) * l.inner;
        const int64_t next = row + l.inner;
        for (int64_t c = c0; c < c1; ++c) {
          const Acc<T> xn = k + 1 < l.n ? static_cast<Acc<T>>(px[next + c]) : Acc<T>(0);
          acc[c - c0] = static_cast<Acc<T>>(pg[row + c]) + xn * acc[c - c0];
          po[row + c] = static_cast<T>(static_cast<Acc<T>>(po[row + c]) * acc[c - c0]);
        }
      }
    });
  });
  return out;
}

}  // namespace deepcore::cpu
