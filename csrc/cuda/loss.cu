// Loss kernels: cross-entropy (fused log-softmax + NLL), NLL, and the elementwise losses (MSE, L1,
// BCE, BCE with logits), forward and backward. The CUDA twin of csrc/cpu/loss.cpp: the same
// formulas in the same precision, so the same edge cases (a logit of 1e16, a probability of 0).
//
// The class losses give one block to each row (a sample, or a sample's pixel) with a grid-stride
// loop over the rows; block_all_reduce gives every thread the row's max and sums. The elementwise
// losses are grid-stride loops whose blocks each leave one float64 partial sum.
#include "cuda/loss.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda/block_reduce.h"
#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "common/loss_kinds.h"
#include "cuda/memory.h"

namespace deepcore::cuda {

using loss::Reduction;
using loss::Pointwise;
using loss::parse_reduction;
using loss::parse_kind;
using loss::kind_name;

namespace {

#ifdef DEEPCORE_CUDA_EMULATOR
constexpr unsigned kMaxBlocks = 16;  // as in reduce.cu: small tests also take the grid-stride path
#else
constexpr unsigned kMaxBlocks = 65535;
#endif

struct MaxF {  // NaN wins (the row's loss is NaN either way)
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

// The row's max for the shifted exponentials; an infinite max shifts by 0, as on the CPU.
template <class T>
__device__ T row_shift(const T* xr, int64_t C, int64_t inner) {
  T m = -INFINITY;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) m = MaxF{}(m, xr[c * inner]);
  m = detail::block_all_reduce(m, MaxF{});
  if (!(m - m == T(0))) m = m != m ? m : T(0);
  return m;
}

// The gradient of one row: the scalar of a mean/sum reduction, or the row's own.
template <class T>
__device__ __forceinline__ double grad_of(const T* g, int64_t r, Reduction red, double total_weight) {
  return red == Reduction::None ? double(g[r]) : red == Reduction::Mean ? double(g[0]) / total_weight : double(g[0]);
}

// ---- cross-entropy ---------------------------------------------------------------------------

// Per row: loss (float64, and as T in row_out when given) and the target's weight.
template <class T>
__global__ void cross_entropy_kernel(const T* x, const int64_t* target, const T* weight, int64_t rows, int64_t C,
                                     int64_t inner, int64_t ignore_index, double eps, double weight_sum,
                                     double* row_loss, double* row_weight, T* row_out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + (r / inner) * C * inner + r % inner;
    const T m = row_shift(xr, C, inner);
    const double md = double(m);
    double s = 0, shifted = 0;  // sum exp(x - m); sum_c w_c (x_c - m) for the smoothing term
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      s += double(exp_of(xr[c * inner] - m));
      if (eps > 0) shifted += (weight ? double(weight[c]) : 1.0) * (double(xr[c * inner]) - md);
    }
    s = detail::block_all_reduce(s, SumF{});
    if (eps > 0) shifted = detail::block_all_reduce(shifted, SumF{});
    if (threadIdx.x == 0) {
      // log s - (x_t - m), not (m + log s) - x_t: that would cancel to 0 for logits near 1e16.
      const double log_s = log(s);
      const int64_t t = target[r];
      double loss = 0, wt = 0;
      if (t != ignore_index) {
        wt = weight ? double(weight[t]) : 1.0;
        loss = (1.0 - eps) * wt * (log_s - (double(xr[t * inner]) - md));
        if (eps > 0) loss += eps / double(C) * (weight_sum * log_s - shifted);
      }
      row_loss[r] = loss;
      row_weight[r] = wt;
      if (row_out) row_out[r] = static_cast<T>(loss);
    }
  }
}

// d/dx_c = g [p_c ((1-eps) w_t + eps/C sum(w)) - (1-eps) w_t [c==t] - eps/C w_c], with the softmax
// p rebuilt from the logits shifted by their max, as the forward shifts them.
template <class T>
__global__ void cross_entropy_backward_kernel(const T* g, const T* x, const int64_t* target, const T* weight, T* out,
                                              int64_t rows, int64_t C, int64_t inner, int64_t ignore_index,
                                              double eps, double weight_sum, Reduction red, double total_weight) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = (r / inner) * C * inner + r % inner;
    const T* xr = x + base;
    T* orow = out + base;
    const int64_t t = target[r];
    if (t == ignore_index) {  // the same for every thread of the block: no barrier is skipped by some only
      for (int64_t c = threadIdx.x; c < C; c += blockDim.x) orow[c * inner] = T(0);
      continue;
    }
    const double gr = grad_of(g, r, red, total_weight);
    const double wt = weight ? double(weight[t]) : 1.0;
    const T p_scale = static_cast<T>(gr * ((1.0 - eps) * wt + eps / double(C) * weight_sum));
    const T m = row_shift(xr, C, inner);
    double s = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += double(exp_of(xr[c * inner] - m));
    s = detail::block_all_reduce(s, SumF{});
    const T scale = static_cast<T>(double(p_scale) / s);
    const double smooth = gr * eps / double(C);
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      T v = exp_of(xr[c * inner] - m) * scale;
      if (eps > 0) v -= static_cast<T>(smooth * (weight ? double(weight[c]) : 1.0));
      if (c == t) v = static_cast<T>(double(v) - gr * (1.0 - eps) * wt);
      orow[c * inner] = v;
    }
  }
}

// ---- negative log-likelihood ------------------------------------------------------------------

template <class T>
__global__ void nll_loss_kernel(const T* x, const int64_t* target, const T* weight, int64_t rows, int64_t C,
                                int64_t inner, int64_t ignore_index, double* row_loss, double* row_weight,
                                T* row_out) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < rows; r += int64_t(blockDim.x) * gridDim.x) {
    const int64_t t = target[r];
    double loss = 0, wt = 0;
    if (t != ignore_index) {
      wt = weight ? double(weight[t]) : 1.0;
      loss = -wt * double(x[(r / inner) * C * inner + r % inner + t * inner]);
    }
    row_loss[r] = loss;
    row_weight[r] = wt;
    if (row_out) row_out[r] = static_cast<T>(loss);
  }
}

// out is zero-filled; only each row's target entry is written.
template <class T>
__global__ void nll_loss_backward_kernel(const T* g, const int64_t* target, const T* weight, T* out, int64_t rows,
                                         int64_t C, int64_t inner, int64_t ignore_index, Reduction red,
                                         double total_weight) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < rows; r += int64_t(blockDim.x) * gridDim.x) {
    const int64_t t = target[r];
    if (t == ignore_index) continue;
    out[(r / inner) * C * inner + r % inner + t * inner] =
        static_cast<T>(-grad_of(g, r, red, total_weight) * (weight ? double(weight[t]) : 1.0));
  }
}

// ---- host side of the class losses ---------------------------------------------------------------

template <class F>
auto dispatch_float(DType dtype, const char* op, F&& fn) {
  switch (dtype) {
    case DType::Float32: return fn(float{});
    case DType::Float64: return fn(double{});
    default: break;
  }
  throw TypeError(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dtype));
}

void require_on(const NDArray& a, const NDArray& like, const char* op) {
  detail::require_cuda(a, op);
  detail::require_same_device(a, like, op);
}

// logits (N, C, d1, ...) seen as rows = N * inner, each row C values apart by `inner`; the CPU's
// checks and messages. weight_sum: the sum of the class weights (C without weights).
struct ClassLayout {
  int64_t batch = 1, classes = 1, inner = 1;
  double weight_sum = 0;
  int64_t rows() const { return batch * inner; }
  unsigned blocks() const { return static_cast<unsigned>(rows() < kMaxBlocks ? rows() : kMaxBlocks); }
};

ClassLayout class_layout(const char* op, const NDArray& input, const NDArray& target,
                         const std::optional<NDArray>& weight, int64_t ignore_index) {
  detail::require_cuda(input, op);
  require_on(target, input, op);
  DC_CHECK(input.ndim() >= 2, op << ": expected an input of shape (N, C) or (N, C, d1, ...), got "
                                 << shape_str(input.shape));
  DC_CHECK_TYPE(input.dtype == DType::Float32 || input.dtype == DType::Float64,
                op << ": expected a float32 or float64 input, got " << dtype_name(input.dtype));
  DC_CHECK_TYPE(target.dtype == DType::Int64, op << ": expected class indices of dtype int64 as the target, got "
                                                 << dtype_name(target.dtype));
  Shape expected = {input.shape[0]};
  expected.insert(expected.end(), input.shape.begin() + 2, input.shape.end());
  DC_CHECK(target.shape == expected, op << ": input of shape " << shape_str(input.shape)
                                        << " needs a target of shape " << shape_str(expected) << ", got "
                                        << shape_str(target.shape));
  ClassLayout L;
  L.batch = input.shape[0];
  L.classes = input.shape[1];
  for (int d = 2; d < input.ndim(); ++d) L.inner *= input.shape[d];
  L.weight_sum = static_cast<double>(L.classes);
  if (weight) {
    require_on(*weight, input, op);
    DC_CHECK(weight->shape == Shape{L.classes}, op << ": weight should have one entry per class, shape ("
                                                   << L.classes << ",), got " << shape_str(weight->shape));
    DC_CHECK_TYPE(weight->dtype == input.dtype, op << ": weight dtype " << dtype_name(weight->dtype)
                                                   << " differs from the input's " << dtype_name(input.dtype));
    const NDArray w = to_host(cast(*weight, DType::Float64));
    L.weight_sum = 0;
    for (int64_t c = 0; c < L.classes; ++c) L.weight_sum += w.data<double>()[c];
  }
  // Every label is checked before any kernel runs, on the host: a bad one names itself.
  const NDArray t = to_host(target);
  const int64_t* pt = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t c = pt[i];
    DC_CHECK(c == ignore_index || (c >= 0 && c < L.classes),
             op << ": target label " << c << " (at flat index " << i << ") is out of range for " << L.classes
                << " classes; labels must lie in [0, " << L.classes - 1 << "]");
  }
  return L;
}

// The per-row float64 losses and weights, added in row order on the host.
std::pair<double, double> host_sums(const NDArray& row_loss, const NDArray& row_weight) {
  const NDArray l = to_host(row_loss), w = to_host(row_weight);
  double loss = 0, weight = 0;
  for (int64_t i = 0; i < l.numel(); ++i) loss += l.data<double>()[i], weight += w.data<double>()[i];
  return {loss, weight};
}

// The loss as the CPU returns it: per row (none), or a 0-d total / mean.
std::tuple<NDArray, double> class_loss_result(Reduction red, const NDArray& per_row, const NDArray& row_loss,
                                              const NDArray& row_weight, DType dtype, int dev) {
  const auto [total, total_weight] = host_sums(row_loss, row_weight);
  if (red == Reduction::None) return {per_row, total_weight};
  return {full({}, red == Reduction::Mean ? total / total_weight : total, dtype, dev), total_weight};
}

void check_class_grad(const char* op, const NDArray& grad, const NDArray& input, const NDArray& target,
                      Reduction red) {
  require_on(grad, input, op);
  const Shape want = red == Reduction::None ? target.shape : Shape{};
  DC_CHECK(grad.shape == want, op << ": gradient of shape " << shape_str(grad.shape) << ", expected "
                                  << shape_str(want));
  DC_CHECK_TYPE(grad.dtype == input.dtype, op << ": gradient dtype " << dtype_name(grad.dtype)
                                              << " differs from the input's " << dtype_name(input.dtype));
}

template <class T>
const T* opt_data(const std::optional<NDArray>& a) {
  return a ? a->data<T>() : nullptr;
}

std::optional<NDArray> opt_contiguous(const std::optional<NDArray>& a) {
  return a ? std::optional<NDArray>(contiguous(*a)) : std::nullopt;
}

}  // namespace

std::tuple<NDArray, double> cross_entropy(const NDArray& logits_in, const NDArray& target_in,
                                          const std::optional<NDArray>& weight_in, int64_t ignore_index,
                                          double label_smoothing, const std::string& reduction) {
  const char* op = "cross_entropy";
  const Reduction red = parse_reduction(reduction, op);
  DC_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
           op << ": label_smoothing must be in [0, 1], got " << label_smoothing);
  const ClassLayout L = class_layout(op, logits_in, target_in, weight_in, ignore_index);
  const int dev = logits_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(logits_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(logits_in), target = contiguous(target_in);
    const std::optional<NDArray> weight = opt_contiguous(weight_in);
    NDArray per_row = red == Reduction::None ? empty(target.shape, x.dtype, dev) : NDArray();
    NDArray row_loss = empty({L.rows()}, DType::Float64, dev), row_weight = empty({L.rows()}, DType::Float64, dev);
    if (L.rows() > 0)
      DEEPCORE_LAUNCH(op, L.blocks(), detail::threads_for_reduction(L.classes), cross_entropy_kernel<T>)(
          x.data<T>(), target.data<int64_t>(), opt_data<T>(weight), L.rows(), L.classes, L.inner, ignore_index,
          label_smoothing, L.weight_sum, row_loss.data<double>(), row_weight.data<double>(),
          red == Reduction::None ? per_row.data<T>() : nullptr);
    return class_loss_result(red, per_row, row_loss, row_weight, x.dtype, dev);
  });
}

NDArray cross_entropy_backward(const NDArray& grad_in, const NDArray& logits_in, const NDArray& target_in,
                               const std::optional<NDArray>& weight_in, int64_t ignore_index,
                               double label_smoothing, const std::string& reduction, double total_weight) {
  const char* op = "cross_entropy_backward";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, logits_in, target_in, weight_in, ignore_index);
  check_class_grad(op, grad_in, logits_in, target_in, red);
  const int dev = logits_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(logits_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(logits_in), target = contiguous(target_in), grad = contiguous(grad_in);
    const std::optional<NDArray> weight = opt_contiguous(weight_in);
    NDArray out = empty(x.shape, x.dtype, dev);
    if (L.rows() > 0 && L.classes > 0)
      DEEPCORE_LAUNCH(op, L.blocks(), detail::threads_for_reduction(L.classes), cross_entropy_backward_kernel<T>)(
          grad.data<T>(), x.data<T>(), target.data<int64_t>(), opt_data<T>(weight), out.data<T>(), L.rows(),
          L.classes, L.inner, ignore_index, label_smoothing, L.weight_sum, red, total_weight);
    return out;
  });
}

std::tuple<NDArray, double> nll_loss(const NDArray& input_in, const NDArray& target_in,
                                     const std::optional<NDArray>& weight_in, int64_t ignore_index,
                                     const std::string& reduction) {
  const char* op = "nll_loss";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, input_in, target_in, weight_in, ignore_index);
  const int dev = input_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(input_in.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray x = contiguous(input_in), target = contiguous(target_in);
    const std::optional<NDArray> weight = opt_contiguous(weight_in);
    NDArray per_row = red == Reduction::None ? empty(target.shape, x.dtype, dev) : NDArray();
    NDArray row_loss = empty({L.rows()}, DType::Float64, dev), row_weight = empty({L.rows()}, DType::Float64, dev);
    if (L.rows() > 0)
      DEEPCORE_LAUNCH(op, detail::grid_for(L.rows()), detail::kThreads, nll_loss_kernel<T>)(
          x.data<T>(), target.data<int64_t>(), opt_data<T>(weight), L.rows(), L.classes, L.inner, ignore_index,
          row_loss.data<double>(), row_weight.data<double>(), red == Reduction::None ? per_row.data<T>() : nullptr);
    return class_loss_result(red, per_row, row_loss, row_weight, x.dtype, dev);
  });
}

NDArray nll_loss_backward(const NDArray& grad_in, const NDArray& input, const NDArray& target_in,
                          const std::optional<NDArray>& weight_in, int64_t ignore_index, const std::string& reduction,
                          double total_weight) {
  const char* op = "nll_loss_backward";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, input, target_in, weight_in, ignore_index);
  check_class_grad(op, grad_in, input, target_in, red);
  const int dev = input.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  return dispatch_float(input.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const NDArray target = contiguous(target_in), grad = contiguous(grad_in);
    const std::optional<NDArray> weight = opt_contiguous(weight_in);
    NDArray out = full(input.shape, 0.0, input.dtype, dev);
    if (L.rows() > 0)
      DEEPCORE_LAUNCH(op, detail::grid_for(L.rows()), detail::kThreads, nll_loss_backward_kernel<T>)(
          grad.data<T>(), target.data<int64_t>(), opt_data<T>(weight), out.data<T>(), L.rows(), L.classes, L.inner,
          ignore_index, red, total_weight);
    return out;
  });
}

// ---- elementwise losses ------------------------------------------------------------------------

namespace {

// log(1 + exp(-|x|)) + max(-x, 0) = log(1 + exp(-x)) without overflow, as on the CPU.
template <class T>
__device__ __forceinline__ T softplus_neg(T x) {
  const T ax = x < T(0) ? -x : x;
  return log_of(T(1) + exp_of(-ax)) + (-x > T(0) ? -x : T(0));
}
// sigmoid(-x) = 1 / (1 + exp(x)), stable on both sides.
template <class T>
__device__ __forceinline__ T sigmoid_neg(T x) {
  const T e = exp_of(x < T(0) ? x : -x);
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? e * r : r;
}

// Per-element loss and d loss / dx, in the input's precision (float math for float32).
template <Pointwise K, class T>
__device__ __forceinline__ T loss_at(T x, T y, T pos_weight) {
  if constexpr (K == Pointwise::MSE) {
    return (x - y) * (x - y);
  } else if constexpr (K == Pointwise::L1) {
    return x - y < T(0) ? y - x : x - y;
  } else if constexpr (K == Pointwise::BCE) {
    // PyTorch clamps each log at -100 so that x = 0 or 1 gives a finite loss.
    const T log_x = log_of(x), log_1mx = log_of(T(1) - x);
    return -(y * (log_x > T(-100) ? log_x : T(-100)) + (T(1) - y) * (log_1mx > T(-100) ? log_1mx : T(-100)));
  } else {
    return (T(1) - y) * x + (T(1) + (pos_weight - T(1)) * y) * softplus_neg(x);
  }
}

template <Pointwise K, class T>
__device__ __forceinline__ T grad_at(T x, T y, T pos_weight) {
  if constexpr (K == Pointwise::MSE) {
    return T(2) * (x - y);
  } else if constexpr (K == Pointwise::L1) {
    return T((x > y) - (x < y));
  } else if constexpr (K == Pointwise::BCE) {
    const T d = (T(1) - x) * x;
    return (x - y) / (d > T(1e-12) ? d : T(1e-12));
  } else {
    return (T(1) - y) - (T(1) + (pos_weight - T(1)) * y) * sigmoid_neg(x);
  }
}

// Each block leaves the float64 sum of its elements' losses in block_sums[blockIdx.x]; BCE records
// the first input outside [0, 1] (or NaN) in *first_bad.
template <Pointwise K, class T>
__global__ void pointwise_loss_kernel(const T* x, const T* y, const T* weight, const T* pos_weight, int64_t n,
                                      T* out, double* block_sums, unsigned long long* first_bad) {
  double s = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const T xi = x[i];
    if (K == Pointwise::BCE && !(xi >= T(0) && xi <= T(1))) atomicMin(first_bad, static_cast<unsigned long long>(i));
    T l = loss_at<K, T>(xi, y[i], pos_weight ? pos_weight[i] : T(1));
    if (weight) l *= weight[i];
    if (out) out[i] = l;
    s += double(l);
  }
  s = detail::block_reduce(s, SumF{});
  if (threadIdx.x == 0) block_sums[blockIdx.x] = s;
}

template <Pointwise K, class T>
__global__ void pointwise_loss_backward_kernel(const T* g, const T* x, const T* y, const T* weight,
                                               const T* pos_weight, int64_t n, bool per_element, double divisor,
                                               T* out) {
  // divisor: n for a mean, 1 for a sum (the scalar gradient g[0] is read here, not on the host).
  const T scalar_grad = per_element ? T(0) : static_cast<T>(double(g[0]) / divisor);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    T gi = per_element ? g[i] : scalar_grad;
    if (weight) gi *= weight[i];
    out[i] = gi * grad_at<K, T>(x[i], y[i], pos_weight ? pos_weight[i] : T(1));
  }
}

struct PointwiseArgs {
  Pointwise kind;
  Reduction red;
  NDArray x, y;
  std::optional<NDArray> weight, pos_weight;
};

PointwiseArgs pointwise_args(const std::string& kind_s, const NDArray& x, const NDArray& y,
                             const std::optional<NDArray>& weight, const std::optional<NDArray>& pos_weight,
                             const std::string& reduction) {
  const Pointwise kind = parse_kind(kind_s);
  const char* op = kind_name(kind);
  PointwiseArgs a{kind, parse_reduction(reduction, op), NDArray(), NDArray(), std::nullopt, std::nullopt};
  detail::require_cuda(x, op);
  require_on(y, x, op);
  DC_CHECK_TYPE(x.dtype == DType::Float32 || x.dtype == DType::Float64,
                op << ": expected a float32 or float64 input, got " << dtype_name(x.dtype));
  DC_CHECK_TYPE(y.dtype == x.dtype, op << ": target dtype " << dtype_name(y.dtype) << " differs from the input's "
                                       << dtype_name(x.dtype));
  DC_CHECK(x.shape == y.shape, op << ": input of shape " << shape_str(x.shape) << " and target of shape "
                                  << shape_str(y.shape) << " differ");
  a.x = contiguous(x);
  a.y = contiguous(y);
  const std::pair<const std::optional<NDArray>*, std::optional<NDArray>*> extras[] = {{&weight, &a.weight},
                                                                                      {&pos_weight, &a.pos_weight}};
  for (auto [in, out] : extras) {
    if (!*in) continue;
    require_on(**in, x, op);
    DC_CHECK((*in)->shape == x.shape, op << ": weight of shape " << shape_str((*in)->shape)
                                         << " must match the input's shape " << shape_str(x.shape));
    DC_CHECK_TYPE((*in)->dtype == x.dtype, op << ": weight dtype " << dtype_name((*in)->dtype)
                                              << " differs from the input's " << dtype_name(x.dtype));
    *out = contiguous(**in);
  }
  DC_CHECK(!a.pos_weight || kind == Pointwise::BCEWithLogits, op << ": pos_weight is only for bce_with_logits");
  return a;
}

template <class F>
void dispatch_kind(Pointwise k, F&& fn) {
  switch (k) {
    case Pointwise::MSE: return fn(std::integral_constant<Pointwise, Pointwise::MSE>{});
    case Pointwise::L1: return fn(std::integral_constant<Pointwise, Pointwise::L1>{});
    case Pointwise::BCE: return fn(std::integral_constant<Pointwise, Pointwise::BCE>{});
    case Pointwise::BCEWithLogits: return fn(std::integral_constant<Pointwise, Pointwise::BCEWithLogits>{});
  }
}

}  // namespace

NDArray pointwise_loss(const std::string& kind_s, const NDArray& x_in, const NDArray& y_in,
                       const std::optional<NDArray>& weight_in, const std::optional<NDArray>& pos_weight_in,
                       const std::string& reduction) {
  const PointwiseArgs a = pointwise_args(kind_s, x_in, y_in, weight_in, pos_weight_in, reduction);
  const char* op = kind_name(a.kind);
  const int dev = a.x.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  const int64_t n = a.x.numel();
  NDArray out = a.red == Reduction::None ? empty(a.x.shape, a.x.dtype, dev) : NDArray();
  const unsigned blocks = n > 0 ? detail::grid_for(n) : 1;
  NDArray block_sums = full({static_cast<int64_t>(blocks)}, 0.0, DType::Float64, dev);
  NDArray first_bad = full({1}, -1.0, DType::Int64, dev);  // all bits set: "none" for an unsigned min
  dispatch_float(a.x.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    dispatch_kind(a.kind, [&](auto kind) {
      constexpr Pointwise K = decltype(kind)::value;
      if (n > 0)
        DEEPCORE_LAUNCH(op, blocks, detail::kThreads, pointwise_loss_kernel<K, T>)(
            a.x.data<T>(), a.y.data<T>(), opt_data<T>(a.weight), opt_data<T>(a.pos_weight), n,
            a.red == Reduction::None ? out.data<T>() : nullptr, block_sums.data<double>(),
            reinterpret_cast<unsigned long long*>(first_bad.data<int64_t>()));
    });
    if (a.kind == Pointwise::BCE) {
      const int64_t bad = to_host(first_bad).data<int64_t>()[0];
      if (bad >= 0) {
        T value;
        DC_CHECK(cudaMemcpy(&value, a.x.data<T>() + bad, sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess,
                 op << ": could not read the input back");
        DC_CHECK(false, op << ": all input elements must lie in [0, 1] (probabilities, e.g. after sigmoid), but "
                           << "element " << bad << " is " << double(value)
                           << "; for raw scores use binary_cross_entropy_with_logits / BCEWithLogitsLoss");
      }
    }
  });
  if (a.red == Reduction::None) return out;
  const NDArray sums = to_host(block_sums);
  double total = 0;
  for (int64_t b = 0; b < sums.numel(); ++b) total += sums.data<double>()[b];
  return full({}, a.red == Reduction::Mean ? total / double(n) : total, a.x.dtype, dev);
}

NDArray pointwise_loss_backward(const std::string& kind_s, const NDArray& grad_in, const NDArray& x_in,
                                const NDArray& y_in, const std::optional<NDArray>& weight_in,
                                const std::optional<NDArray>& pos_weight_in, const std::string& reduction) {
  const PointwiseArgs a = pointwise_args(kind_s, x_in, y_in, weight_in, pos_weight_in, reduction);
  const char* op = kind_name(a.kind);
  require_on(grad_in, x_in, op);
  const Shape want_grad = a.red == Reduction::None ? a.x.shape : Shape{};
  DC_CHECK(grad_in.shape == want_grad, op << " backward: gradient of shape " << shape_str(grad_in.shape)
                                          << ", expected " << shape_str(want_grad));
  DC_CHECK_TYPE(grad_in.dtype == a.x.dtype, op << " backward: gradient dtype " << dtype_name(grad_in.dtype)
                                               << " differs from the input's " << dtype_name(a.x.dtype));
  const int dev = a.x.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  const NDArray grad = contiguous(grad_in);
  const int64_t n = a.x.numel();
  NDArray out = empty(a.x.shape, a.x.dtype, dev);
  if (n == 0) return out;
  const double divisor = a.red == Reduction::Mean ? double(n) : 1.0;
  dispatch_float(a.x.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    dispatch_kind(a.kind, [&](auto kind) {
      constexpr Pointwise K = decltype(kind)::value;
      DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, pointwise_loss_backward_kernel<K, T>)(
          grad.data<T>(), a.x.data<T>(), a.y.data<T>(), opt_data<T>(a.weight), opt_data<T>(a.pos_weight), n,
          a.red == Reduction::None, divisor, out.data<T>());
    });
  });
  return out;
}

}  // namespace deepcore::cuda
