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

}  // namespace

std::pair<NDArray, NDArray> dropout(const NDArray& x_in, double p) {
  check_device(x_in, Device::CPU, "dropout");
  check_probability(p, "dropout");
  NDArray x = contiguous(x_in);
  NDArray out = empty(x.shape, x.dtype);
  NDArray mask = empty(x.shape, DType::Bool);
  const int64_t n = x.numel();
  // A 32-bit word w keeps its element when w >= p * 2^32: P(keep) = 1 - p up to 2^-32.
  const uint64_t threshold = static_cast<uint64_t>(std::ldexp(p, 32));
  const int64_t blocks = (n + 3) / 4;
  dispatch_float(x.dtype, "dropout", [&]<class T>() {
    const T scale = static_cast<T>(keep_scale(p));
    const T* px = x.data<T>();
    T* po = out.data<T>();
    bool* pm = mask.data<bool>();
    auto [seed, first] = reserve_random_blocks(static_cast<uint64_t>(blocks));
    parallel_for(blocks, 4096, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        const std::array<uint32_t, 4> r = philox4x32(first + static_cast<uint64_t>(j), seed);
        const int64_t base = j * 4, count = std::min<int64_t>(4, n - base);
        for (int64_t l = 0; l < count; ++l) {
          const bool keep = r[l] >= threshold;
          pm[base + l] = keep;
          po[base + l] = keep ? px[base + l] * scale : T(0);
        }
      }
    });
  });
  return {out, mask};
}

NDArray dropout_backward(const NDArray& grad, const NDArray& mask, double p) {
  check_device(grad, Device::CPU, "dropout_backward");
  check_device(mask, Device::CPU, "dropout_backward");
  check_probability(p, "dropout_backward");
  DC_CHECK(grad.shape == mask.shape, "dropout_backward: gradient shape " << shape_str(grad.shape)
                                                                         << " does not match the mask's shape "
                                                                         << shape_str(mask.shape));
  DC_CHECK_TYPE(mask.dtype == DType::Bool, "dropout_backward: the mask must be bool, got " << dtype_name(mask.dtype));
  NDArray out = empty(grad.shape, grad.dtype);
  StridedLoop<3> loop(grad.shape, {out.strides, grad.strides, mask.strides});
  dispatch_float(grad.dtype, "dropout_backward", [&]<class T>() {
    const T scale = static_cast<T>(keep_scale(p));
    T* po = out.data<T>();
    const T* pg = grad.data<T>();
    const bool* pm = mask.data<bool>();
    loop.run(kElementwiseGrain, [&](int64_t count, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
      T* o = po + off[0];
      const T* g = pg + off[1];
      const bool* m = pm + off[2];
      if (st[0] == 1 && st[1] == 1 && st[2] == 1)
        for (int64_t i = 0; i < count; ++i) o[i] = m[i] ? g[i] * scale : T(0);
      else
        for (int64_t i = 0; i < count; ++i) o[i * st[0]] = m[i * st[2]] ? g[i * st[1]] * scale : T(0);
    });
  });
  return out;
}

}  // namespace deepcore::cpu
