// Pooling and upsampling (NCHW), forward and backward: the CUDA twin of csrc/cpu/pool.cpp.
//
// Every kernel is a gather: one thread per element it writes, reading what that element depends
// on. The forward passes give a thread each output; the backward passes give a thread each input
// element, which visits the windows that contain it in the CPU's order (so overlapping windows
// add up in the same order, and no two threads write one element: no atomics, the same bits on
// every run).
#include "cuda/pool.h"

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

#define DC_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// The window of output (oy, ox), clipped to the input.
struct Window {
  int64_t y0, y1, x0, x1;
};
__device__ __forceinline__ Window window_of(const PoolGeometry& g, int64_t oy, int64_t ox) {
  const int64_t y = oy * g.sh - g.ph, x = ox * g.sw - g.pw;
  return {y > 0 ? y : 0, y + g.kh < g.H ? y + g.kh : g.H, x > 0 ? x : 0, x + g.kw < g.W ? x + g.kw : g.W};
}

// The range of outputs along one axis whose windows contain input position i: o * s - p <= i < o * s - p + k.
__device__ __forceinline__ void outputs_over(int64_t i, int64_t k, int64_t s, int64_t p, int64_t n_out, int64_t& lo,
                                             int64_t& hi) {
  const int64_t top = i + p;  // o * s <= top and o * s > top - k
  lo = top - k + 1 <= 0 ? 0 : (top - k + 1 + s - 1) / s;
  hi = top / s;
  if (hi > n_out - 1) hi = n_out - 1;
}

// PyTorch's rule: a later element wins if it is larger or NaN.
template <class T>
__device__ __forceinline__ bool takes_over(T v, T best) {
  return v > best || v != v;
}

// Index in the plane of the window's maximum (padding never wins: with padding <= kernel / 2
// every window holds at least one input element).
template <class T>
__device__ int64_t window_argmax(const T* plane, const PoolGeometry& g, const Window& w) {
  int64_t best = w.y0 * g.W + w.x0;
  T m = plane[best];
  for (int64_t y = w.y0; y < w.y1; ++y)
    for (int64_t x = w.x0; x < w.x1; ++x) {
      const T v = plane[y * g.W + x];
      if (takes_over(v, m)) {
        m = v;
        best = y * g.W + x;
      }
    }
  return best;
}

// ---- kernels ---------------------------------------------------------------------------------

template <class T>
__global__ void max_pool2d_forward_kernel(const T* x, T* out, PoolGeometry g) {
  const int64_t ohw = g.OH * g.OW;
  DC_GRID_STRIDE(i, g.planes * ohw) {
    const int64_t plane = i / ohw, o = i % ohw;
    const T* xp = x + plane * g.H * g.W;
    out[i] = xp[window_argmax(xp, g, window_of(g, o / g.OW, o % g.OW))];
  }
}

template <class T>
__global__ void max_pool2d_backward_kernel(const T* grad, const T* x, T* dx, PoolGeometry g) {
  const int64_t hw = g.H * g.W;
  DC_GRID_STRIDE(i, g.planes * hw) {
    const int64_t plane = i / hw, e = i % hw, y = e / g.W, xx = e % g.W;
    const T* xp = x + plane * hw;
    const T* gp = grad + plane * g.OH * g.OW;
    int64_t oy0, oy1, ox0, ox1;
    outputs_over(y, g.kh, g.sh, g.ph, g.OH, oy0, oy1);
    outputs_over(xx, g.kw, g.sw, g.pw, g.OW, ox0, ox1);
    T s = T(0);
    for (int64_t oy = oy0; oy <= oy1; ++oy)
      for (int64_t ox = ox0; ox <= ox1; ++ox)
        if (window_argmax(xp, g, window_of(g, oy, ox)) == e) s += gp[oy * g.OW + ox];
    dx[i] = s;
  }
}

template <class T>
__global__ void avg_pool2d_forward_kernel(const T* x, T* out, PoolGeometry g) {
  const int64_t ohw = g.OH * g.OW;
  const T count = T(g.kh * g.kw);  // padding counts (count_include_pad)
  DC_GRID_STRIDE(i, g.planes * ohw) {
    const int64_t plane = i / ohw, o = i % ohw;
    const T* xp = x + plane * g.H * g.W;
    const Window w = window_of(g, o / g.OW, o % g.OW);
    T s = T(0);
    for (int64_t y = w.y0; y < w.y1; ++y)
      for (int64_t xx = w.x0; xx < w.x1; ++xx) s += xp[y * g.W + xx];
    out[i] = s / count;
  }
}

template <class T>
__global__ void avg_pool2d_backward_kernel(const T* grad, T* dx, PoolGeometry g) {
  const int64_t hw = g.H * g.W;
  const T count = T(g.kh * g.kw);
  DC_GRID_STRIDE(i, g.planes * hw) {
    const int64_t plane = i / hw, e = i % hw;
    const T* gp = grad + plane * g.OH * g.OW;
    int64_t oy0, oy1, ox0, ox1;
    outputs_over(e / g.W, g.kh, g.sh, g.ph, g.OH, oy0, oy1);
    outputs_over(e % g.W, g.kw, g.sw, g.pw, g.OW, ox0, ox1);
    T s = T(0);
    for (int64_t oy = oy0; oy <= oy1; ++oy)
      for (int64_t ox = ox0; ox <= ox1; ++ox) s += gp[oy * g.OW + ox] / count;
    dx[i] = s;
  }
}

template <class T>
__global__ void upsample_nearest2d_forward_kernel(const T* x, T* out, int64_t planes, int64_t H, int64_t W,
                                                  int64_t sh, int64_t sw) {
  const int64_t OH = H * sh, OW = W * sw;
  DC_GRID_STRIDE(i, planes * OH * OW) {
    const int64_t plane = i / (OH * OW), o = i % (OH * OW);
    out[i] = x[plane * H * W + (o / OW / sh) * W + (o % OW) / sw];
  }
}

// Sums each input pixel's sh x sw block: row by row, each row's sw values first (the CPU's order).
template <class T>
__global__ void upsample_nearest2d_backward_kernel(const T* grad, T* dx, int64_t planes, int64_t H, int64_t W,
                                                   int64_t sh, int64_t sw) {
  const int64_t OW = W * sw;
  DC_GRID_STRIDE(i, planes * H * W) {
    const int64_t plane = i / (H * W), y = (i % (H * W)) / W, xx = i % W;
    const T* gp = grad + plane * H * sh * OW;
    T total = T(0);
    for (int64_t r = 0; r < sh; ++r) {
      T s = T(0);
      for (int64_t c = 0; c < sw; ++c) s += gp[(y * sh + r) * OW + xx * sw + c];
      total += s;
    }
    dx[i] = total;
  }
}

// ---- host side -------------------------------------------------------------------------------

void check_float(const char* op, const char* what, const NDArray& a) {
  detail::require_cuda(a, op);
  DC_CHECK_TYPE(a.dtype == DType::Float32 || a.dtype == DType::Float64,
                op << ": " << what << " must be float32 or float64, got " << dtype_name(a.dtype));
}

void check_grad_shape(const char* op, const NDArray& grad, const Shape& expected) {
  DC_CHECK(grad.shape == expected, op << ": grad_out has shape " << shape_str(grad.shape)
                                      << " but the forward's output has shape " << shape_str(expected));
}

void check_scale(const char* op, const std::array<int64_t, 2>& scale) {
  DC_CHECK(scale[0] >= 1 && scale[1] >= 1,
           op << ": scale factors must be positive integers, got (" << scale[0] << ", " << scale[1] << ")");
}

// fn(T{}) in the array's precision, on its device; `out` is written by one launch over n elements.
template <class F>
NDArray run_float(const NDArray& like, const Shape& out_shape, const char* op, F&& launch) {
  const int dev = like.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out = empty(out_shape, like.dtype, dev);
  const int64_t n = out.numel();
  if (n == 0) return out;
  if (like.dtype == DType::Float32)
    launch(float{}, out, detail::grid_for(n));
  else
    launch(double{}, out, detail::grid_for(n));
  return out;
}

}  // namespace

NDArray max_pool2d_forward(const NDArray& x_in, const Pool2dParams& p) {
  const char* op = "max_pool2d";
  check_float(op, "input", x_in);
  const PoolGeometry g = pool_geometry(op, x_in.shape, p);
  return run_float(x_in, {x_in.shape[0], x_in.shape[1], g.OH, g.OW}, op, [&](auto tag, NDArray& out, unsigned grid) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, max_pool2d_forward_kernel<T>)(x.data<T>(), out.data<T>(), g);
  });
}

NDArray max_pool2d_backward(const NDArray& grad_in, const NDArray& x_in, const Pool2dParams& p) {
  const char* op = "max_pool2d_backward";
  check_float(op, "input", x_in);
  check_float(op, "grad_out", grad_in);
  detail::require_same_device(grad_in, x_in, op);
  DC_CHECK_TYPE(grad_in.dtype == x_in.dtype, op << ": grad_out is " << dtype_name(grad_in.dtype)
                                                << " but the input is " << dtype_name(x_in.dtype));
  const PoolGeometry g = pool_geometry(op, x_in.shape, p);
  check_grad_shape(op, grad_in, {x_in.shape[0], x_in.shape[1], g.OH, g.OW});
  return run_float(x_in, x_in.shape, op, [&](auto tag, NDArray& dx, unsigned grid) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in), grad = contiguous(grad_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, max_pool2d_backward_kernel<T>)(grad.data<T>(), x.data<T>(),
                                                                              dx.data<T>(), g);
  });
}

NDArray avg_pool2d_forward(const NDArray& x_in, const Pool2dParams& p) {
  const char* op = "avg_pool2d";
  check_float(op, "input", x_in);
  const PoolGeometry g = pool_geometry(op, x_in.shape, p);
  return run_float(x_in, {x_in.shape[0], x_in.shape[1], g.OH, g.OW}, op, [&](auto tag, NDArray& out, unsigned grid) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, avg_pool2d_forward_kernel<T>)(x.data<T>(), out.data<T>(), g);
  });
}

NDArray avg_pool2d_backward(const NDArray& grad_in, const Shape& input_shape, const Pool2dParams& p) {
  const char* op = "avg_pool2d_backward";
  check_float(op, "grad_out", grad_in);
  const PoolGeometry g = pool_geometry(op, input_shape, p);
  check_grad_shape(op, grad_in, {input_shape[0], input_shape[1], g.OH, g.OW});
  return run_float(grad_in, input_shape, op, [&](auto tag, NDArray& dx, unsigned grid) {
    using T = decltype(tag);
    const NDArray grad = contiguous(grad_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, avg_pool2d_backward_kernel<T>)(grad.data<T>(), dx.data<T>(), g);
  });
}

NDArray upsample_nearest2d_forward(const NDArray& x_in, const std::array<int64_t, 2>& scale) {
  const char* op = "upsample_nearest2d";
  check_float(op, "input", x_in);
  DC_CHECK(x_in.ndim() == 4, op << ": expected a 4-D input (N, C, H, W), got shape " << shape_str(x_in.shape));
  check_scale(op, scale);
  const int64_t H = x_in.shape[2], W = x_in.shape[3];
  const Shape out_shape = {x_in.shape[0], x_in.shape[1], H * scale[0], W * scale[1]};
  return run_float(x_in, out_shape, op, [&](auto tag, NDArray& out, unsigned grid) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, upsample_nearest2d_forward_kernel<T>)(
        x.data<T>(), out.data<T>(), x.shape[0] * x.shape[1], H, W, scale[0], scale[1]);
  });
}

NDArray upsample_nearest2d_backward(const NDArray& grad_in, const std::array<int64_t, 2>& scale) {
  const char* op = "upsample_nearest2d_backward";
  check_float(op, "grad_out", grad_in);
  DC_CHECK(grad_in.ndim() == 4, op << ": expected a 4-D grad_out, got shape " << shape_str(grad_in.shape));
  check_scale(op, scale);
  DC_CHECK(grad_in.shape[2] % scale[0] == 0 && grad_in.shape[3] % scale[1] == 0,
           op << ": grad_out shape " << shape_str(grad_in.shape) << " is not a multiple of the scale (" << scale[0]
              << ", " << scale[1] << ")");
  const int64_t H = grad_in.shape[2] / scale[0], W = grad_in.shape[3] / scale[1];
  return run_float(grad_in, {grad_in.shape[0], grad_in.shape[1], H, W}, op, [&](auto tag, NDArray& dx, unsigned grid) {
    using T = decltype(tag);
    const NDArray grad = contiguous(grad_in);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, upsample_nearest2d_backward_kernel<T>)(
        grad.data<T>(), dx.data<T>(), grad.shape[0] * grad.shape[1], H, W, scale[0], scale[1]);
  });
}

}  // namespace deepcore::cuda
