// conv2d forward and both backward passes: the CUDA twin of csrc/cpu/conv.cpp (same checks).
//
// A direct convolution, written as gathers so that no two threads write one element (no atomics,
// the same bits on every run): the forward gives a thread each output element, the input
// gradient a thread each input element (the outputs whose windows hold it), and the weight and
// bias gradients a block each weight (or bias) element, whose threads stride over the batch and
// the output pixels and combine with block_reduce. Not yet the implicit GEMM issue 14 asks for:
// correct on every geometry the CPU accepts, and its speed has not been measured (no GPU has
// run it).
#include "cuda/conv.h"

#include "cuda/block_reduce.h"
#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

#ifdef DEEPCORE_CUDA_EMULATOR
constexpr unsigned kMaxBlocks = 16;  // as in reduce.cu: small tests also take the grid-stride path
#else
constexpr unsigned kMaxBlocks = 65535;
#endif

#define DC_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

using Geometry = ConvGeometry;  // common/conv_geometry.h

struct SumF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

// ---- kernels ----------------------------------------------------------------------------------

template <class T>
__global__ void conv2d_forward_kernel(const T* x, const T* w, const T* bias, T* out, Geometry g) {
  DC_GRID_STRIDE(i, g.N * g.O * g.OH * g.OW) {
    const int64_t ox = i % g.OW, oy = i / g.OW % g.OH, o = i / (g.OW * g.OH) % g.O, n = i / (g.OW * g.OH * g.O);
    const int64_t c0 = o / g.Og * g.Cg;  // the group's first input channel
    T s = bias ? bias[o] : T(0);
    for (int64_t c = 0; c < g.Cg; ++c) {
      const T* xp = x + ((n * g.C + c0 + c) * g.H) * g.W;
      const T* wp = w + (o * g.Cg + c) * g.kh * g.kw;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t y = oy * g.sh - g.ph + ky * g.dh;
        if (y < 0 || y >= g.H) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t xx = ox * g.sw - g.pw + kx * g.dw;
          if (xx >= 0 && xx < g.W) s += xp[y * g.W + xx] * wp[ky * g.kw + kx];
        }
      }
    }
    out[i] = s;
  }
}

template <class T>
__global__ void conv2d_backward_input_kernel(const T* grad, const T* w, T* dx, Geometry g) {
  DC_GRID_STRIDE(i, g.N * g.C * g.H * g.W) {
    const int64_t xx = i % g.W, y = i / g.W % g.H, c = i / (g.W * g.H) % g.C, n = i / (g.W * g.H * g.C);
    const int64_t group = c / g.Cg, cg = c % g.Cg;
    T s = T(0);
    for (int64_t og = 0; og < g.Og; ++og) {
      const int64_t o = group * g.Og + og;
      const T* gp = grad + ((n * g.O + o) * g.OH) * g.OW;
      const T* wp = w + (o * g.Cg + cg) * g.kh * g.kw;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t ty = y + g.ph - ky * g.dh;  // = oy * sh
        if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.OH) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t tx = xx + g.pw - kx * g.dw;
          if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.OW) continue;
          s += gp[(ty / g.sh) * g.OW + tx / g.sw] * wp[ky * g.kw + kx];
        }
      }
    }
    dx[i] = s;
  }
}

// One block per weight element (o, c, ky, kx): the sum over the batch and the output pixels.
template <class T>
__global__ void conv2d_backward_weight_kernel(const T* grad, const T* x, T* dw, Geometry g) {
  const int64_t weights = g.O * g.Cg * g.kh * g.kw, per = g.N * g.OH * g.OW;
  for (int64_t e = blockIdx.x; e < weights; e += gridDim.x) {
    const int64_t kx = e % g.kw, ky = e / g.kw % g.kh, cg = e / (g.kw * g.kh) % g.Cg, o = e / (g.kw * g.kh * g.Cg);
    const int64_t c = o / g.Og * g.Cg + cg;
    T s = T(0);
    for (int64_t j = threadIdx.x; j < per; j += blockDim.x) {
      const int64_t ox = j % g.OW, oy = j / g.OW % g.OH, n = j / (g.OW * g.OH);
      const int64_t y = oy * g.sh - g.ph + ky * g.dh, xx = ox * g.sw - g.pw + kx * g.dw;
      if (y >= 0 && y < g.H && xx >= 0 && xx < g.W)
        s += grad[((n * g.O + o) * g.OH + oy) * g.OW + ox] * x[((n * g.C + c) * g.H + y) * g.W + xx];
    }
    s = detail::block_reduce(s, SumF{});
    if (threadIdx.x == 0) dw[e] = s;
  }
}

// One block per output channel: the sum of its gradient over the batch and the pixels.
template <class T>
__global__ void conv2d_backward_bias_kernel(const T* grad, T* db, Geometry g) {
  const int64_t per = g.N * g.OH * g.OW, ohw = g.OH * g.OW;
  for (int64_t o = blockIdx.x; o < g.O; o += gridDim.x) {
    T s = T(0);
    for (int64_t j = threadIdx.x; j < per; j += blockDim.x) s += grad[(j / ohw * g.O + o) * ohw + j % ohw];
    s = detail::block_reduce(s, SumF{});
    if (threadIdx.x == 0) db[o] = s;
  }
}

// ---- host side ----------------------------------------------------------------------------------

void check_array(const char* op, const char* what, const NDArray& a, const NDArray& like) {
  detail::require_cuda(a, op);
  detail::require_same_device(a, like, op);
  DC_CHECK_TYPE(a.dtype == DType::Float32 || a.dtype == DType::Float64,
                op << ": " << what << " must be float32 or float64, got " << dtype_name(a.dtype));
  DC_CHECK_TYPE(a.dtype == like.dtype, op << ": " << what << " is " << dtype_name(a.dtype) << " but expected "
                                          << dtype_name(like.dtype) << " like the other operands");
}

Geometry make_geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  return conv_geometry(op, x, w, p);  // the CPU's checks and messages
}

void check_grad(const char* op, const NDArray& grad, const Geometry& g) {
  const Shape expected{g.N, g.O, g.OH, g.OW};
  DC_CHECK(grad.shape == expected, op << ": grad_out has shape " << shape_str(grad.shape)
                                      << " but the convolution's output has shape " << shape_str(expected));
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(n < kMaxBlocks ? n : kMaxBlocks); }

}  // namespace

NDArray conv2d_forward(const NDArray& x_in, const NDArray& w_in, const std::optional<NDArray>& bias_in,
                       const Conv2dParams& p) {
  const char* op = "conv2d";
  check_array(op, "input", x_in, x_in);
  check_array(op, "weight", w_in, x_in);
  const Geometry g = make_geometry(op, x_in.shape, w_in.shape, p);
  if (bias_in) {
    check_array(op, "bias", *bias_in, x_in);
    DC_CHECK(bias_in->ndim() == 1 && bias_in->shape[0] == g.O, op << ": bias must have shape (" << g.O
                                                                  << ",) to match the weight, got "
                                                                  << shape_str(bias_in->shape));
  }
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out = empty({g.N, g.O, g.OH, g.OW}, x_in.dtype, dev);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const NDArray x = contiguous(x_in), w = contiguous(w_in);
  const NDArray b = bias_in ? contiguous(*bias_in) : NDArray();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, conv2d_forward_kernel<T>)(
        x.data<T>(), w.data<T>(), bias_in ? b.data<T>() : nullptr, out.data<T>(), g);
  };
  if (x.dtype == DType::Float32)
    run(float{});
  else
    run(double{});
  return out;
}

NDArray conv2d_backward_input(const NDArray& grad_in, const NDArray& w_in, const Shape& input_shape,
                              const Conv2dParams& p) {
  const char* op = "conv2d_backward_input";
  check_array(op, "grad_out", grad_in, grad_in);
  check_array(op, "weight", w_in, grad_in);
  const Geometry g = make_geometry(op, input_shape, w_in.shape, p);
  check_grad(op, grad_in, g);
  const int dev = grad_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray dx = empty(input_shape, grad_in.dtype, dev);
  const int64_t n = dx.numel();
  if (n == 0) return dx;
  const NDArray grad = contiguous(grad_in), w = contiguous(w_in);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, conv2d_backward_input_kernel<T>)(
        grad.data<T>(), w.data<T>(), dx.data<T>(), g);
  };
  if (grad.dtype == DType::Float32)
    run(float{});
  else
    run(double{});
  return dx;
}

std::pair<NDArray, std::optional<NDArray>> conv2d_backward_weight(const NDArray& grad_in, const NDArray& x_in,
                                                                  const Shape& weight_shape, bool with_bias,
                                                                  const Conv2dParams& p) {
  const char* op = "conv2d_backward_weight";
  check_array(op, "grad_out", grad_in, grad_in);
  check_array(op, "input", x_in, grad_in);
  const Geometry g = make_geometry(op, x_in.shape, weight_shape, p);
  check_grad(op, grad_in, g);
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray dw = empty(weight_shape, x_in.dtype, dev);
  std::optional<NDArray> db;
  if (with_bias) db = empty({g.O}, x_in.dtype, dev);
  const NDArray grad = contiguous(grad_in), x = contiguous(x_in);
  const unsigned threads = detail::threads_for_reduction(g.N * g.OH * g.OW);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    // An empty batch still launches: every block then writes its 0.
    if (dw.numel() > 0)
      DEEPCORE_LAUNCH(op, blocks_for(dw.numel()), threads, conv2d_backward_weight_kernel<T>)(
          grad.data<T>(), x.data<T>(), dw.data<T>(), g);
    if (db && g.O > 0)
      DEEPCORE_LAUNCH(op, blocks_for(g.O), threads, conv2d_backward_bias_kernel<T>)(grad.data<T>(), db->data<T>(), g);
  };
  if (x.dtype == DType::Float32)
    run(float{});
  else
    run(double{});
  return {dw, db};
}

}  // namespace deepcore::cuda
