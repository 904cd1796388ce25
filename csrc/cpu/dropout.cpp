// Dropout forward and backward.
#include "cpu/dropout.h"

#include <cmath>

#include "cpu/memory.h"
#include "cpu/random.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

void check_probability(double p, const char* op) {
  DC_CHECK(p >= 0.0 && p <= 1.0, op << ": dropout probability has to be between 0 and 1, but got " << p);
}

// 0 when everything is dropped (p == 1): the output is zeros, not NaN.
double keep_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

// out = x * (kept ? scale : 0), a product rather than a branch (which p = 0.5 would
// mispredict half the time); as in PyTorch, a dropped inf or NaN gives NaN, so a
// diverged network stays visible. Restrict pointers: the bool stores could alias
// anything and would keep the loop scalar.
template <class T>
void apply_mask(const uint32_t* __restrict words, uint32_t threshold, T scale, const T* __restrict x,
                T* __restrict out, bool* __restrict mask, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const bool keep = words[i] >= threshold;
    mask[i] = keep;
    out[i] = x[i] * (keep ? scale : T(0));
  }
}

// The mask read as bytes: GCC 12 leaves loops that load bool scalar.
template <class T>
void scale_by_mask(const T* __restrict g, const uint8_t* __restrict mask, T scale, T* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = g[i] * (mask[i] ? scale : T(0));
}

}  // namespace

std::pair<NDArray, NDArray> dropout(const NDArray& x_in, double p) {
  check_device(x_in, Device::CPU, "dropout");
  check_probability(p, "dropout");
  NDArray x = contiguous(x_in);
  const int64_t n = x.numel();
  const int64_t blocks = (n + 3) / 4;
  NDArray out = empty(x.shape, x.dtype);
  NDArray mask = empty(x.shape, DType::Bool);
  // A 32-bit word w keeps its element when w >= p * 2^32: P(keep) = 1 - p up to 2^-32.
  const uint32_t threshold = p < 1.0 ? static_cast<uint32_t>(std::ldexp(p, 32)) : 0;
  dispatch_float(x.dtype, "dropout", [&]<class T>() {
    // Reserved after the dtype check, by the same count whatever p is.
    auto [seed, first] = reserve_random_blocks(static_cast<uint64_t>(blocks));
    if (p == 1.0) {  // nothing kept: no 32-bit word reaches 2^32
      out = full(x.shape, 0.0, x.dtype);
      mask = full(x.shape, 0.0, DType::Bool);
      return;
    }
    const T scale = static_cast<T>(keep_scale(p));
    const T* px = x.data<T>();
    T* po = out.data<T>();
    bool* pm = mask.data<bool>();
    parallel_for(blocks, 4096, [&](int64_t b, int64_t e) {
      // Words for a run of blocks at a time (vectorized Philox), then the mask from them.
      constexpr int64_t kRun = 256;
      uint32_t words[4 * kRun];
      for (int64_t j = b; j < e; j += kRun) {
        const int64_t run = std::min(kRun, e - j);
        philox4x32_fill(first + static_cast<uint64_t>(j), seed, run, words);
        const int64_t base = 4 * j, count = std::min(4 * run, n - base);
        apply_mask(words, threshold, scale, px + base, po + base, pm + base, count);
      }
    });
  });
  return {out, mask};
}

NDArray dropout_backward(const NDArray& grad_in, const NDArray& mask_in, double p) {
  check_device(grad_in, Device::CPU, "dropout_backward");
  check_device(mask_in, Device::CPU, "dropout_backward");
  check_probability(p, "dropout_backward");
  DC_CHECK(grad_in.shape == mask_in.shape, "dropout_backward: gradient shape "
                                               << shape_str(grad_in.shape) << " does not match the mask's shape "
                                               << shape_str(mask_in.shape));
  DC_CHECK_TYPE(mask_in.dtype == DType::Bool,
                "dropout_backward: the mask must be bool, got " << dtype_name(mask_in.dtype));
  // One dense layout for all three: a gradient that arrives permuted (Keras' channels-last
  // Flatten hands back an NHWC view of the NCHW mask) costs one blocked copy, not a gather per element.
  const NDArray g = contiguous(grad_in);
  const NDArray m = contiguous(mask_in);
  NDArray out = empty(g.shape, g.dtype);
  const int64_t n = g.numel();
  dispatch_float(g.dtype, "dropout_backward", [&]<class T>() {
    const T scale = static_cast<T>(keep_scale(p));
    const T* pg = g.data<T>();
    const uint8_t* pm = reinterpret_cast<const uint8_t*>(m.data<bool>());
    T* po = out.data<T>();
    parallel_for(n, kElementwiseGrain,
                 [&](int64_t b, int64_t e) { scale_by_mask(pg + b, pm + b, scale, po + b, e - b); });
  });
  return out;
}

}  // namespace deepcore::cpu
