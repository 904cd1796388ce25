// Activations and their backward passes, forward and backward side by side, and softmax: the CUDA
// twin of csrc/cpu/activation.cpp (the same formulas, so the same edge cases: NaN, +-inf, -0).
//
// Strided inputs are made contiguous first (one copy kernel); then the pointwise kernels are
// grid-stride loops and the softmax kernels give one block to each row along `axis` (a grid-
// stride loop over the rows), with block_all_reduce for the row's max and sum.
#include "cuda/activation.h"

#include <cmath>
#include <string>

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

// ---- pointwise forward and backward --------------------------------------------------------

template <class T>
__global__ void leaky_relu_kernel(const T* x, T* out, int64_t n, T slope) {
  DC_GRID_STRIDE(i, n) {
    const T v = x[i];
    out[i] = v > T(0) ? v : v * slope;
  }
}

// slope 0 (relu): exactly 0 where x <= 0, even for an infinite gradient (as on the CPU).
template <class T>
__global__ void leaky_relu_backward_kernel(const T* g, const T* x, T* out, int64_t n, T slope) {
  DC_GRID_STRIDE(i, n) { out[i] = x[i] > T(0) ? g[i] : slope == T(0) ? T(0) : g[i] * slope; }
}

template <class T>
__global__ void tanh_backward_kernel(const T* g, const T* y, T* out, int64_t n) {
  DC_GRID_STRIDE(i, n) { out[i] = g[i] * (T(1) - y[i] * y[i]); }
}

template <class T>
__global__ void sigmoid_backward_kernel(const T* g, const T* y, T* out, int64_t n) {
  DC_GRID_STRIDE(i, n) { out[i] = g[i] * y[i] * (T(1) - y[i]); }
}

// ---- softmax and log-softmax, forward and backward -----------------------------------------
// A contiguous tensor seen as (outer, n, inner) around the axis: row r has its n elements at
// (r / inner) * n * inner + r % inner + i * inner.

struct MaxF {  // NaN wins: a row with a NaN comes out all NaN, as on the CPU
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if (a != a) return a;
    if (b != b) return b;
    return b > a ? b : a;
  }
};
struct SumF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return exp(x); }
__device__ __forceinline__ float log_of(float x) { return logf(x); }
__device__ __forceinline__ double log_of(double x) { return log(x); }

template <class T, bool kLog>
__global__ void softmax_kernel(const T* x, T* out, int64_t rows, int64_t n, int64_t inner) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    const T* xi = x + base;
    T* oi = out + base;
    T m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = MaxF{}(m, xi[i * inner]);
    m = detail::block_all_reduce(m, MaxF{});
    // Subtract the max so that exp never overflows; an infinite max shifts by 0 (as on the CPU).
    if (!(m - m == T(0))) m = m != m ? m : T(0);
    T s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const T e = exp_of(xi[i * inner] - m);
      if (!kLog) oi[i * inner] = e;
      s += e;
    }
    s = detail::block_all_reduce(s, SumF{});
    if (kLog) {
      // (x - m) - log(s), not x - (m + log(s)): with a large |m| the sum rounds log(s) away.
      const T log_s = log_of(s);
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) oi[i * inner] = (xi[i * inner] - m) - log_s;
    } else {
      const T inv = T(1) / s;
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) oi[i * inner] *= inv;
    }
  }
}

// softmax: y (g - sum(g y)); log_softmax: g - exp(y) sum(g). The sums accumulate in float64.
template <class T, bool kLog>
__global__ void softmax_backward_kernel(const T* g, const T* y, T* out, int64_t rows, int64_t n, int64_t inner) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    const T *gi = g + base, *yi = y + base;
    T* oi = out + base;
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
      s += kLog ? double(gi[i * inner]) : double(gi[i * inner]) * yi[i * inner];
    const T sum = static_cast<T>(detail::block_all_reduce(s, SumF{}));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
      oi[i * inner] = kLog ? gi[i * inner] - exp_of(yi[i * inner]) * sum : yi[i * inner] * (gi[i * inner] - sum);
  }
}

// ---- launchers ------------------------------------------------------------------------------------

template <class F>
auto dispatch_float(DType dtype, const char* op, F&& fn) {
  switch (dtype) {
    case DType::Float32: return fn(float{});
    case DType::Float64: return fn(double{});
    default: break;
  }
  throw TypeError(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dtype));
}

void check_same(const char* op, const NDArray& grad, const NDArray& y) {
  detail::require_cuda(grad, op);
  detail::require_cuda(y, op);
  detail::require_same_device(grad, y, op);
  DC_CHECK(grad.shape == y.shape, op << ": gradient shape " << shape_str(grad.shape)
                                     << " does not match the saved tensor's shape " << shape_str(y.shape));
  DC_CHECK_TYPE(grad.dtype == y.dtype, op << ": gradient dtype " << dtype_name(grad.dtype)
                                          << " does not match the saved tensor's dtype " << dtype_name(y.dtype));
}

// out = kernel(grad, y) over same-shaped operands (made contiguous).
template <class Launch>
NDArray backward_map(const char* op, const NDArray& grad_in, const NDArray& y_in, Launch&& launch) {
  check_same(op, grad_in, y_in);
  const int dev = y_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(y_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray g = contiguous(grad_in), y = contiguous(y_in);
    NDArray out = empty(y.shape, y.dtype, dev);
    const int64_t n = y.numel();
    if (n > 0) launch(tag, g.data<T>(), y.data<T>(), out.data<T>(), n, detail::grid_for(n));
    return out;
  });
}

// The (outer, n, inner) split around `axis`, with the CPU's check and message.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
  AxisView(const NDArray& a, int64_t axis, const char* op) {
    const int nd = a.ndim();
    const int64_t lim = nd == 0 ? 1 : nd;
    DC_CHECK(axis >= -lim && axis < lim, op << ": dim " << axis << " is out of range for a tensor with " << nd
                                            << " dimension(s)");
    if (nd == 0) return;
    if (axis < 0) axis += nd;
    for (int d = 0; d < nd; ++d) (d < axis ? outer : d == axis ? n : inner) *= a.shape[d];
  }
  int64_t rows() const { return outer * inner; }
  unsigned blocks() const { return static_cast<unsigned>(rows() < kMaxBlocks ? rows() : kMaxBlocks); }
};

template <bool kLog>
NDArray softmax_forward(const NDArray& x_in, int64_t axis) {
  const char* op = kLog ? "log_softmax" : "softmax";
  detail::require_cuda(x_in, op);
  const AxisView v(x_in, axis, op);
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(x_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    NDArray out = empty(x.shape, x.dtype, dev);
    if (x.numel() > 0)
      DEEPCORE_LAUNCH(op, v.blocks(), detail::threads_for_reduction(v.n), softmax_kernel<T, kLog>)(
          x.data<T>(), out.data<T>(), v.rows(), v.n, v.inner);
    return out;
  });
}

template <bool kLog>
NDArray softmax_backward_impl(const NDArray& grad_in, const NDArray& y_in, int64_t axis) {
  const char* op = kLog ? "log_softmax_backward" : "softmax_backward";
  check_same(op, grad_in, y_in);
  const AxisView v(y_in, axis, op);
  const int dev = y_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(y_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray g = contiguous(grad_in), y = contiguous(y_in);
    NDArray out = empty(y.shape, y.dtype, dev);
    if (y.numel() > 0)
      DEEPCORE_LAUNCH(op, v.blocks(), detail::threads_for_reduction(v.n), softmax_backward_kernel<T, kLog>)(
          g.data<T>(), y.data<T>(), out.data<T>(), v.rows(), v.n, v.inner);
    return out;
  });
}

// ---- the pointwise activations (csrc/cpu/activation_pointwise.cpp's kinds and formulas) ----------
// Each thread computes one element; the kind is the same for the whole launch, so the switch
// never diverges within a warp. Where the CPU runs float32 through its own vector exp/erfc/log
// approximations, these use the device's (expm1f, erfcf, log1pf): the two agree to about 1e-6.

enum class Kind { elu, selu, celu, gelu, gelu_tanh, silu, mish, softplus, hardtanh, hardsigmoid, hardswish,
                  logsigmoid, softsign, threshold };

constexpr const char* kKindNames[] = {"elu",      "selu",        "celu",      "gelu",       "gelu_tanh",
                                      "silu",     "mish",        "softplus",  "hardtanh",   "hardsigmoid",
                                      "hardswish", "logsigmoid", "softsign",  "threshold"};

Kind parse_kind(const std::string& name, const char* op) {
  std::string known;
  for (int k = 0; k < static_cast<int>(sizeof(kKindNames) / sizeof(kKindNames[0])); ++k) {
    if (name == kKindNames[k]) return static_cast<Kind>(k);
    known += known.empty() ? kKindNames[k] : std::string(", ") + kKindNames[k];
  }
  throw ValueError(std::string(op) + ": unknown activation kind '" + name + "' (expected one of " + known + ")");
}

void check_kind_args(Kind kind, double a, double b, const char* op) {
  if (kind == Kind::celu) DC_CHECK(a != 0.0, op << ": celu's alpha cannot be 0");
  if (kind == Kind::hardtanh) DC_CHECK(a <= b, op << ": hardtanh's min_val " << a << " is above max_val " << b);
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kGeluCubic = 0.044715;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;
constexpr double kSqrtHalf = 0.70710678118654752440084436210485;
constexpr double kMishLinear = 20.0;  // above it tanh(softplus(x)) is 1 to double precision

// The call's arguments in the element type, with the ELU family's coefficients resolved once
// (out = x <= 0 ? scale alpha (exp(x in) - 1) : scale x).
template <class T>
struct Coef {
  T a, b, alpha, scale, in;
};
template <class T>
Coef<T> coef_of(Kind kind, double a, double b) {
  Coef<T> c{static_cast<T>(a), static_cast<T>(b), T(1), T(1), T(1)};
  if (kind == Kind::elu) c.alpha = c.a;
  if (kind == Kind::selu) c.alpha = static_cast<T>(kSeluAlpha), c.scale = static_cast<T>(kSeluScale);
  if (kind == Kind::celu) c.alpha = c.a, c.in = static_cast<T>(1.0 / a);
  return c;
}

// The CPU's min/max: the first argument when the comparison is false (so NaN propagates).
template <class T>
__device__ __forceinline__ T lesser(T a, T b) { return b < a ? b : a; }
template <class T>
__device__ __forceinline__ T greater(T a, T b) { return a < b ? b : a; }
__device__ __forceinline__ float expm1_of(float x) { return expm1f(x); }
__device__ __forceinline__ double expm1_of(double x) { return expm1(x); }
__device__ __forceinline__ float log1p_of(float x) { return log1pf(x); }
__device__ __forceinline__ double log1p_of(double x) { return log1p(x); }
__device__ __forceinline__ float erfc_of(float x) { return erfcf(x); }
__device__ __forceinline__ double erfc_of(double x) { return erfc(x); }
template <class T>
__device__ __forceinline__ T abs_of(T x) { return x < T(0) ? -x : x; }

// sigmoid(z) and its complement 1 - sigmoid(z), neither by subtraction.
template <class T>
__device__ __forceinline__ void sigmoid_pair(T z, T& s, T& sc) {
  const T e = exp_of(-abs_of(z)), r = T(1) / (T(1) + e), er = e * r;
  s = z >= T(0) ? r : er;
  sc = z >= T(0) ? er : r;
}
template <class T>
__device__ __forceinline__ T sigmoid_of(T z) {
  T s, sc;
  sigmoid_pair(z, s, sc);
  return s;
}

template <class T>
__device__ T activation_at(Kind kind, const Coef<T>& c, T x) {
  switch (kind) {
    case Kind::elu:
    case Kind::selu:
    case Kind::celu: {
      const T neg = c.scale * c.alpha * expm1_of(lesser(x, T(0)) * c.in), pos = c.scale * x;
      return x <= T(0) ? neg : pos;  // PyTorch's test: NaN takes the positive side
    }
    case Kind::gelu: return x * (T(0.5) * erfc_of(-x * T(kSqrtHalf)));
    case Kind::gelu_tanh:  // (1 + tanh(u)) / 2 = sigmoid(2u), which does not cancel for x << 0
      return x * sigmoid_of(T(2 * kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x));
    case Kind::silu: return x * sigmoid_of(x);
    case Kind::mish: {  // tanh(log(1 + n)) = n (n + 2) / (n (n + 2) + 2) with n = exp(x)
      const T n = exp_of(lesser(x, T(kMishLinear))), q = n * (n + T(2));
      return x > T(kMishLinear) ? x : x * (q / (q + T(2)));
    }
    case Kind::softplus: {  // (max(z, 0) + log(1 + exp(-|z|))) / beta, z = beta x
      const T z = c.a * x;
      return z > c.b ? x : (greater(z, T(0)) + log1p_of(exp_of(-abs_of(z)))) / c.a;
    }
    case Kind::logsigmoid: return lesser(x, T(0)) - log1p_of(exp_of(-abs_of(x)));
    case Kind::hardtanh: return x < c.a ? c.a : (x > c.b ? c.b : x);  // NaN stays NaN
    case Kind::hardsigmoid: return lesser(greater(x + T(3), T(0)), T(6)) / T(6);
    case Kind::hardswish: return x * lesser(greater(x + T(3), T(0)), T(6)) / T(6);
    case Kind::softsign: return x / (T(1) + abs_of(x));
    case Kind::threshold: return x <= c.a ? c.b : x;  // PyTorch's test keeps a NaN input
  }
  return x;
}

// g * f'(x), with PyTorch's boundary rules.
template <class T>
__device__ T activation_grad_at(Kind kind, const Coef<T>& c, T g, T x) {
  switch (kind) {
    case Kind::elu:
    case Kind::selu:
    case Kind::celu: {
      const T neg = g * (c.in * c.alpha * c.scale) * exp_of(lesser(x, T(0)) * c.in), pos = g * c.scale;
      return x <= T(0) ? neg : pos;
    }
    case Kind::gelu:  // Phi(x) + x phi(x)
      return g * (T(0.5) * erfc_of(-x * T(kSqrtHalf)) + x * exp_of(T(-0.5) * x * x) * T(kInvSqrt2Pi));
    case Kind::gelu_tanh: {  // y = x s, s = sigmoid(2u): y' = s + x s (1 - s) 2u'
      T s, sc;
      sigmoid_pair(T(2 * kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x), s, sc);
      const T du = T(2 * kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
      const T spread = s * sc, slope = x * spread * du;
      return g * (s + (spread == T(0) ? T(0) : slope));  // saturated: 0, not 0 * inf
    }
    case Kind::silu: {  // s (1 + x (1 - s))
      T s, sc;
      sigmoid_pair(x, s, sc);
      return g * s * (T(1) + x * sc);
    }
    case Kind::mish: {  // tsp + x sigmoid(x) (1 - tsp^2), 1 - tsp^2 = (1 + tsp) 2 / d
      const T n = exp_of(lesser(x, T(kMishLinear))), q = n * (n + T(2)), d = q + T(2), tsp = q / d;
      return x > T(kMishLinear) ? g : g * (tsp + x * (n / (T(1) + n)) * ((T(1) + tsp) * T(2) / d));
    }
    case Kind::softplus: {  // sigmoid(beta x), or 1 in the linear region
      const T z = c.a * x;
      return z > c.b ? g : g * sigmoid_of(z);
    }
    case Kind::logsigmoid: return g * sigmoid_of(-x);
    case Kind::hardtanh: return (x <= c.a || x >= c.b) ? T(0) : g;
    case Kind::hardsigmoid: return (x > T(-3) && x < T(3)) ? g * T(1.0 / 6.0) : T(0);
    case Kind::hardswish:  // PyTorch 2's rule: 0 up to -3 inclusive, g from 3 on (and for NaN)
      return x <= T(-3) ? T(0) : (x < T(3) ? g * (x / T(3) + T(0.5)) : g);
    case Kind::softsign: {
      const T d = T(1) + abs_of(x);
      return g / (d * d);
    }
    case Kind::threshold: return x <= c.a ? T(0) : g;
  }
  return g;
}

template <class T>
__global__ void activation_kernel(const T* x, T* y, int64_t n, Kind kind, Coef<T> c) {
  DC_GRID_STRIDE(i, n) { y[i] = activation_at(kind, c, x[i]); }
}

template <class T>
__global__ void activation_backward_kernel(const T* g, const T* x, T* out, int64_t n, Kind kind, Coef<T> c) {
  DC_GRID_STRIDE(i, n) { out[i] = activation_grad_at(kind, c, g[i], x[i]); }
}

}  // namespace

NDArray leaky_relu(const NDArray& x_in, double slope) {
  const char* op = "leaky_relu";
  detail::require_cuda(x_in, op);
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(x_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    NDArray out = empty(x.shape, x.dtype, dev);
    const int64_t n = x.numel();
    if (n > 0)
      DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, leaky_relu_kernel<T>)(x.data<T>(), out.data<T>(), n,
                                                                                      static_cast<T>(slope));
    return out;
  });
}

NDArray leaky_relu_backward(const NDArray& grad, const NDArray& x, double slope) {
  const char* op = "leaky_relu_backward";
  return backward_map(op, grad, x, [&](auto tag, auto g, auto v, auto o, int64_t n, unsigned grid) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, leaky_relu_backward_kernel<T>)(g, v, o, n, static_cast<T>(slope));
  });
}

NDArray tanh_backward(const NDArray& grad, const NDArray& y) {
  const char* op = "tanh_backward";
  return backward_map(op, grad, y, [&](auto tag, auto g, auto v, auto o, int64_t n, unsigned grid) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, tanh_backward_kernel<T>)(g, v, o, n);
  });
}

NDArray sigmoid_backward(const NDArray& grad, const NDArray& y) {
  const char* op = "sigmoid_backward";
  return backward_map(op, grad, y, [&](auto tag, auto g, auto v, auto o, int64_t n, unsigned grid) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, sigmoid_backward_kernel<T>)(g, v, o, n);
  });
}

NDArray softmax(const NDArray& x, int64_t axis) { return softmax_forward<false>(x, axis); }
NDArray log_softmax(const NDArray& x, int64_t axis) { return softmax_forward<true>(x, axis); }
NDArray softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis) {
  return softmax_backward_impl<false>(grad, y, axis);
}
NDArray log_softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis) {
  return softmax_backward_impl<true>(grad, y, axis);
}


NDArray activation(const NDArray& x_in, const std::string& kind_name, double a, double b) {
  const char* op = "activation";
  detail::require_cuda(x_in, op);
  const Kind kind = parse_kind(kind_name, op);
  check_kind_args(kind, a, b, op);
  const int dev = x_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(x_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(x_in);
    NDArray out = empty(x.shape, x.dtype, dev);
    const int64_t n = x.numel();
    if (n > 0)
      DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, activation_kernel<T>)(x.data<T>(), out.data<T>(), n,
                                                                                      kind, coef_of<T>(kind, a, b));
    return out;
  });
}

NDArray activation_backward(const NDArray& grad, const NDArray& x, const std::string& kind_name, double a,
                            double b) {
  const char* op = "activation_backward";
  detail::require_cuda(grad, op);
  detail::require_cuda(x, op);
  detail::require_same_device(grad, x, op);
  DC_CHECK(grad.shape == x.shape, op << ": gradient shape " << shape_str(grad.shape)
                                     << " does not match the input's shape " << shape_str(x.shape));
  DC_CHECK_TYPE(grad.dtype == x.dtype, op << ": gradient dtype " << dtype_name(grad.dtype)
                                          << " does not match the input's dtype " << dtype_name(x.dtype));
  const Kind kind = parse_kind(kind_name, op);
  check_kind_args(kind, a, b, op);
  return backward_map(op, grad, x, [&](auto tag, auto g, auto v, auto o, int64_t n, unsigned grid) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, grid, detail::kThreads, activation_backward_kernel<T>)(g, v, o, n, kind,
                                                                              coef_of<T>(kind, a, b));
  });
}

}  // namespace deepcore::cuda
