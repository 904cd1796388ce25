// Dropout forward and backward: the CUDA twin of csrc/cpu/dropout.cpp. Each thread draws one
// Philox block (4 words) and applies it to 4 consecutive elements, as the CPU does.
#include "cuda/dropout.h"

#include <cmath>

#include "cpu/random.h"   // the Philox constants: one source for both devices
#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

#define DC_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// Philox 4x32-10 of (counter, key): the rounds of cpu::philox4x32 (csrc/cpu/random.h).
__device__ __forceinline__ void philox4x32(uint64_t counter, uint64_t seed, uint32_t (&out)[4]) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(cpu::kPhiloxM0) * c0, p1 = uint64_t(cpu::kPhiloxM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += cpu::kPhiloxW0;
    k1 += cpu::kPhiloxW1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// As on the CPU: a product, not a branch, so a dropped inf or NaN gives NaN (a diverged network
// stays visible).
template <class T>
__global__ void dropout_kernel(const T* x, T* out, uint8_t* mask, int64_t n, uint64_t seed, uint64_t first,
                               uint32_t threshold, T scale) {
  DC_GRID_STRIDE(j, (n + 3) / 4) {
    uint32_t words[4];
    philox4x32(first + static_cast<uint64_t>(j), seed, words);
    for (int l = 0; l < 4; ++l) {
      const int64_t i = 4 * j + l;
      if (i >= n) break;
      const bool keep = words[l] >= threshold;
      mask[i] = keep;
      out[i] = x[i] * (keep ? scale : T(0));
    }
  }
}

template <class T>
__global__ void dropout_backward_kernel(const T* g, const uint8_t* mask, T* out, int64_t n, T scale) {
  DC_GRID_STRIDE(i, n) { out[i] = g[i] * (mask[i] ? scale : T(0)); }
}

void check_probability(double p, const char* op) {
  DC_CHECK(p >= 0.0 && p <= 1.0, op << ": dropout probability has to be between 0 and 1, but got " << p);
}

// 0 when everything is dropped (p == 1): the output is zeros, not NaN.
double keep_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

template <class F>
void dispatch_float(DType dtype, const char* op, F&& fn) {
  if (dtype == DType::Float32) return fn(float{});
  if (dtype == DType::Float64) return fn(double{});
  throw TypeError(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dtype));
}

}  // namespace

std::pair<NDArray, NDArray> dropout_at(const NDArray& x_in, double p, uint64_t seed, uint64_t first) {
  const char* op = "dropout";
  detail::require_cuda(x_in, op);
  check_probability(p, op);
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out, mask;
  dispatch_float(x_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    if (p == 1.0) {  // nothing kept: no 32-bit word reaches 2^32
      out = full(x_in.shape, 0.0, x_in.dtype, dev);
      mask = full(x_in.shape, 0.0, DType::Bool, dev);
      return;
    }
    const NDArray x = contiguous(x_in);
    out = empty(x.shape, x.dtype, dev);
    mask = empty(x.shape, DType::Bool, dev);
    const int64_t n = x.numel();
    if (n == 0) return;
    // A 32-bit word w keeps its element when w >= p * 2^32: P(keep) = 1 - p up to 2^-32.
    const uint32_t threshold = static_cast<uint32_t>(std::ldexp(p, 32));
    DEEPCORE_LAUNCH(op, detail::grid_for((n + 3) / 4), detail::kThreads, dropout_kernel<T>)(
        x.data<T>(), out.data<T>(), mask.data<uint8_t>(), n, seed, first, threshold, static_cast<T>(keep_scale(p)));
  });
  return {out, mask};
}

NDArray dropout_backward(const NDArray& grad_in, const NDArray& mask_in, double p) {
  const char* op = "dropout_backward";
  detail::require_cuda(grad_in, op);
  detail::require_cuda(mask_in, op);
  detail::require_same_device(grad_in, mask_in, op);
  check_probability(p, op);
  DC_CHECK(grad_in.shape == mask_in.shape, op << ": gradient shape " << shape_str(grad_in.shape)
                                              << " does not match the mask's shape " << shape_str(mask_in.shape));
  DC_CHECK_TYPE(mask_in.dtype == DType::Bool, op << ": the mask must be bool, got " << dtype_name(mask_in.dtype));
  const int dev = grad_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out;
  dispatch_float(grad_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray g = contiguous(grad_in), m = contiguous(mask_in);
    out = empty(g.shape, g.dtype, dev);
    const int64_t n = g.numel();
    if (n > 0)
      DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, dropout_backward_kernel<T>)(
          g.data<T>(), m.data<uint8_t>(), out.data<T>(), n, static_cast<T>(keep_scale(p)));
  });
  return out;
}

}  // namespace deepcore::cuda
