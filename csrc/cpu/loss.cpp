// Loss kernels: cross-entropy (fused log-softmax + NLL), NLL, and the
// elementwise losses (MSE, L1, BCE, BCE with logits).
#include "cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/loss_kinds.h"
#include "cpu/memory.h"
#include "cpu/vec_math.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

using loss::Reduction;
using loss::Pointwise;
using loss::parse_reduction;
using loss::parse_kind;
using loss::kind_name;

namespace {

// A deterministic sum: rows are split into blocks whose size depends only on the
// shape (never on the thread count), block sums are computed in parallel, then
// added in order. ~16K values of work per block keeps both threads busy on
// (256, 1000) logits and the partial-sum array small on long vectors.
constexpr int64_t kSumBlockWork = 16384;

inline int64_t sum_block_rows(int64_t work_per_row) {
  return std::max<int64_t>(1, kSumBlockWork / std::max<int64_t>(work_per_row, 1));
}

// Sums f(begin, end) -> (value, weight) over blocks of `block_rows` rows of [0, n).
template <class F>
std::pair<double, double> blocked_sum(int64_t n, int64_t block_rows, const F& f) {
  const int64_t blocks = (n + block_rows - 1) / block_rows;
  std::vector<double> values(blocks), weights(blocks);
  parallel_for(blocks, 2, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      auto [v, w] = f(k * block_rows, std::min(n, (k + 1) * block_rows));
      values[k] = v;
      weights[k] = w;
    }
  });
  double v = 0, w = 0;
  for (int64_t k = 0; k < blocks; ++k) v += values[k], w += weights[k];
  return {v, w};
}

// logits (N, C, d1, ...) seen as rows = N * inner, each row C values apart by `inner`.
struct ClassLayout {
  int64_t batch = 1, classes = 1, inner = 1;
  int64_t rows() const { return batch * inner; }
  int64_t base(int64_t row) const { return (row / inner) * classes * inner + row % inner; }
};

ClassLayout class_layout(const char* op, const NDArray& input, const NDArray& target,
                         const std::optional<NDArray>& weight, int64_t ignore_index) {
  check_device(input, Device::CPU, op);
  check_device(target, Device::CPU, op);
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
  if (weight) {
    check_device(*weight, Device::CPU, op);
    DC_CHECK(weight->shape == Shape{L.classes}, op << ": weight should have one entry per class, shape ("
                                                   << L.classes << ",), got " << shape_str(weight->shape));
    DC_CHECK_TYPE(weight->dtype == input.dtype, op << ": weight dtype " << dtype_name(weight->dtype)
                                                   << " differs from the input's " << dtype_name(input.dtype));
  }
  // Validate every label before any parallel work: a bad one names itself.
  const NDArray t = contiguous(target);
  const int64_t* pt = t.data<int64_t>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = pt[i];
    DC_CHECK(c == ignore_index || (c >= 0 && c < L.classes),
             op << ": target label " << c << " (at flat index " << i << ") is out of range for " << L.classes
                << " classes; labels must lie in [0, " << L.classes - 1 << "]");
  }
  return L;
}

NDArray scalar_of(double v, DType dtype) { return full({}, v, dtype); }

}  // namespace

// ---- cross-entropy ---------------------------------------------------------------

std::tuple<NDArray, double> cross_entropy(const NDArray& logits_in, const NDArray& target_in,
                                                   const std::optional<NDArray>& weight_in, int64_t ignore_index,
                                                   double label_smoothing, const std::string& reduction) {
  const char* op = "cross_entropy";
  const Reduction red = parse_reduction(reduction, op);
  DC_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
           op << ": label_smoothing must be in [0, 1], got " << label_smoothing);
  const ClassLayout L = class_layout(op, logits_in, target_in, weight_in, ignore_index);
  const NDArray x = contiguous(logits_in), target = contiguous(target_in);
  std::optional<NDArray> weight;
  if (weight_in) weight = contiguous(*weight_in);
  NDArray per_row = red == Reduction::None ? empty(target.shape, x.dtype) : NDArray();
  double total = 0, total_weight = 0;
  dispatch_float(x.dtype, op, [&]<class T>() {
    const T* px = x.data<T>();
    const int64_t* pt = target.data<int64_t>();
    const T* pw = weight ? weight->data<T>() : nullptr;
    T* prow = red == Reduction::None ? per_row.data<T>() : nullptr;
    const int64_t C = L.classes, inner = L.inner;
    const vec::Kernels<T>& vk = vec::kernels<T>();
    const double eps = label_smoothing;
    double weight_sum = C;  // sum of all class weights, for the smoothing term
    if (pw) {
      weight_sum = 0;
      for (int64_t c = 0; c < C; ++c) weight_sum += pw[c];
    }
    auto rows = [&](int64_t b, int64_t e) -> std::pair<double, double> {
      double loss_sum = 0, w_sum = 0;
      for (int64_t r = b; r < e; ++r) {
        const T* xr = px + L.base(r);
        // Max-subtracted logsumexp: exp never overflows.
        T m = -std::numeric_limits<T>::infinity();
        double s = 0;
        if (inner == 1) {  // the common (N, C) case: the vectorized softmax row kernels
          m = vk.row_max(xr, C);
          if (!std::isfinite(m)) m = (m != m) ? m : T(0);
          s = double(vk.sum_exp_shifted(xr, m, C));
        } else {
          for (int64_t c = 0; c < C; ++c) m = std::max(m, xr[c * inner]);
          if (!std::isfinite(m)) m = (m != m) ? m : T(0);
          for (int64_t c = 0; c < C; ++c) s += double(std::exp(xr[c * inner] - m));
        }
        // Everything relative to the max: (m + log s) - x_t would cancel to 0 for logits near 1e16,
        // while log s - (x_t - m) keeps the log s term (x_t - m is exact by Sterbenz near the max).
        const double log_s = std::log(s);
        const double md = double(m);
        const int64_t t = pt[r];
        double loss = 0;
        if (t != ignore_index) {
          const double wt = pw ? double(pw[t]) : 1.0;
          loss = (1.0 - eps) * wt * (log_s - (double(xr[t * inner]) - md));
          if (eps > 0) {
            double weighted_shifted_x = 0;  // sum_c w_c (x_c - m)
            for (int64_t c = 0; c < C; ++c)
              weighted_shifted_x += (pw ? double(pw[c]) : 1.0) * (double(xr[c * inner]) - md);
            loss += eps / double(C) * (weight_sum * log_s - weighted_shifted_x);
          }
          w_sum += wt;
        }
        if (prow) prow[r] = static_cast<T>(loss);
        loss_sum += loss;
      }
      return {loss_sum, w_sum};
    };
    std::tie(total, total_weight) = blocked_sum(L.rows(), sum_block_rows(C), rows);
  });
  if (red == Reduction::None) return {per_row, total_weight};
  return {scalar_of(red == Reduction::Mean ? total / total_weight : total, x.dtype), total_weight};
}

NDArray cross_entropy_backward(const NDArray& grad_in, const NDArray& logits_in, const NDArray& target_in,
                               const std::optional<NDArray>& weight_in, int64_t ignore_index,
                               double label_smoothing, const std::string& reduction, double total_weight) {
  const char* op = "cross_entropy_backward";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, logits_in, target_in, weight_in, ignore_index);
  check_device(grad_in, Device::CPU, op);
  const Shape want_grad = red == Reduction::None ? target_in.shape : Shape{};
  DC_CHECK(grad_in.shape == want_grad, op << ": gradient of shape " << shape_str(grad_in.shape) << ", expected "
                                          << shape_str(want_grad));
  DC_CHECK_TYPE(grad_in.dtype == logits_in.dtype, op << ": gradient dtype " << dtype_name(grad_in.dtype)
                                                     << " differs from the input's " << dtype_name(logits_in.dtype));
  const NDArray x = contiguous(logits_in), target = contiguous(target_in), grad = contiguous(grad_in);
  std::optional<NDArray> weight;
  if (weight_in) weight = contiguous(*weight_in);
  NDArray out = empty(x.shape, x.dtype);
  dispatch_float(x.dtype, op, [&]<class T>() {
    const T* px = x.data<T>();
    const int64_t* pt = target.data<int64_t>();
    const T* pw = weight ? weight->data<T>() : nullptr;
    const T* pg = grad.data<T>();
    T* po = out.data<T>();
    const int64_t C = L.classes, inner = L.inner;
    const vec::Kernels<T>& vk = vec::kernels<T>();
    const double eps = label_smoothing;
    double weight_sum = C;
    if (pw) {
      weight_sum = 0;
      for (int64_t c = 0; c < C; ++c) weight_sum += pw[c];
    }
    const double scalar_grad = red == Reduction::None ? 0.0
                               : red == Reduction::Mean ? double(pg[0]) / total_weight
                                                        : double(pg[0]);
    parallel_for(L.rows(), std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(C, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t base = L.base(r);
                     const T* xr = px + base;
                     T* orow = po + base;
                     const int64_t t = pt[r];
                     if (t == ignore_index) {
                       for (int64_t c = 0; c < C; ++c) orow[c * inner] = T(0);
                       continue;
                     }
                     const double g = red == Reduction::None ? double(pg[r]) : scalar_grad;
                     const double wt = pw ? double(pw[t]) : 1.0;
                     // d/dx_c = g * [p_c ((1-eps) w_t + eps/C sum(w)) - (1-eps) w_t [c==t] - eps/C w_c]
                     const T p_scale = static_cast<T>(g * ((1.0 - eps) * wt + eps / double(C) * weight_sum));
                     // softmax = exp(x - max) / sum, as the forward shifts it: a logsumexp rounded to T
                     // (-1e6 + log 2 in float32) would be off by its rounding in every exp.
                     if (inner == 1) {
                       T m = vk.row_max(xr, C);
                       if (!std::isfinite(m)) m = (m != m) ? m : T(0);
                       const T s = vk.exp_shifted_sum(xr, m, orow, C);
                       vk.arith_scalar[vec::kMul](orow, static_cast<T>(p_scale / s), orow, C);
                     } else {
                       T m = -std::numeric_limits<T>::infinity();
                       for (int64_t c = 0; c < C; ++c) m = std::max(m, xr[c * inner]);
                       if (!std::isfinite(m)) m = (m != m) ? m : T(0);
                       double s = 0;
                       for (int64_t c = 0; c < C; ++c) s += double(orow[c * inner] = std::exp(xr[c * inner] - m));
                       const T scale = static_cast<T>(double(p_scale) / s);
                       for (int64_t c = 0; c < C; ++c) orow[c * inner] *= scale;
                     }
                     if (eps > 0) {
                       const double smooth = g * eps / double(C);
                       for (int64_t c = 0; c < C; ++c)
                         orow[c * inner] -= static_cast<T>(smooth * (pw ? double(pw[c]) : 1.0));
                     }
                     orow[t * inner] = static_cast<T>(double(orow[t * inner]) - g * (1.0 - eps) * wt);
                   }
                 });
  });
  return out;
}

// ---- negative log-likelihood -------------------------------------------------------

std::tuple<NDArray, double> nll_loss(const NDArray& input_in, const NDArray& target_in,
                                     const std::optional<NDArray>& weight_in, int64_t ignore_index,
                                     const std::string& reduction) {
  const char* op = "nll_loss";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, input_in, target_in, weight_in, ignore_index);
  const NDArray x = contiguous(input_in), target = contiguous(target_in);
  std::optional<NDArray> weight;
  if (weight_in) weight = contiguous(*weight_in);
  NDArray per_row = red == Reduction::None ? empty(target.shape, x.dtype) : NDArray();
  double total = 0, total_weight = 0;
  dispatch_float(x.dtype, op, [&]<class T>() {
    const T* px = x.data<T>();
    const int64_t* pt = target.data<int64_t>();
    const T* pw = weight ? weight->data<T>() : nullptr;
    T* prow = red == Reduction::None ? per_row.data<T>() : nullptr;
    auto rows = [&](int64_t b, int64_t e) -> std::pair<double, double> {
      double loss_sum = 0, w_sum = 0;
      for (int64_t r = b; r < e; ++r) {
        const int64_t t = pt[r];
        double loss = 0;
        if (t != ignore_index) {
          const double wt = pw ? double(pw[t]) : 1.0;
          loss = -wt * double(px[L.base(r) + t * L.inner]);
          w_sum += wt;
        }
        if (prow) prow[r] = static_cast<T>(loss);
        loss_sum += loss;
      }
      return {loss_sum, w_sum};
    };
    std::tie(total, total_weight) = blocked_sum(L.rows(), sum_block_rows(1), rows);
  });
  if (red == Reduction::None) return {per_row, total_weight};
  return {scalar_of(red == Reduction::Mean ? total / total_weight : total, x.dtype), total_weight};
}

NDArray nll_loss_backward(const NDArray& grad_in, const NDArray& input, const NDArray& target_in,
                          const std::optional<NDArray>& weight_in, int64_t ignore_index, const std::string& reduction,
                          double total_weight) {
  const char* op = "nll_loss_backward";
  const Reduction red = parse_reduction(reduction, op);
  const ClassLayout L = class_layout(op, input, target_in, weight_in, ignore_index);
  check_device(grad_in, Device::CPU, op);
  const Shape want_grad = red == Reduction::None ? target_in.shape : Shape{};
  DC_CHECK(grad_in.shape == want_grad, op << ": gradient of shape " << shape_str(grad_in.shape) << ", expected "
                                          << shape_str(want_grad));
  DC_CHECK_TYPE(grad_in.dtype == input.dtype, op << ": gradient dtype " << dtype_name(grad_in.dtype)
                                                 << " differs from the input's " << dtype_name(input.dtype));
  const NDArray target = contiguous(target_in), grad = contiguous(grad_in);
  std::optional<NDArray> weight;
  if (weight_in) weight = contiguous(*weight_in);
  NDArray out = empty(input.shape, input.dtype);
  std::memset(out.raw(), 0, out.storage->nbytes);
  dispatch_float(input.dtype, op, [&]<class T>() {
    const int64_t* pt = target.data<int64_t>();
    const T* pw = weight ? weight->data<T>() : nullptr;
    const T* pg = grad.data<T>();
    T* po = out.data<T>();
    const double scalar_grad = red == Reduction::None ? 0.0
                               : red == Reduction::Mean ? double(pg[0]) / total_weight
                                                        : double(pg[0]);
    parallel_for(L.rows(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t t = pt[r];
        if (t == ignore_index) continue;
        const double g = red == Reduction::None ? double(pg[r]) : scalar_grad;
        po[L.base(r) + t * L.inner] = static_cast<T>(-g * (pw ? double(pw[t]) : 1.0));
      }
    });
  });
  return out;
}

// ---- elementwise losses ---------------------------------------------------------------

namespace {

// log(1 + exp(-|x|)) + max(-x, 0) = log(1 + exp(-x)), without overflow. log(1 + e) rather than
// log1p(e): glibc's log1pf is several times slower than logf, and the absolute error (< e * 2^-24)
// is below float's resolution of the loss (PyTorch's kernel does the same).
template <class T>
inline T softplus_neg(T x) { return std::log(T(1) + std::exp(-std::abs(x))) + std::max(-x, T(0)); }
// sigmoid(-x) = 1 / (1 + exp(x)), stable on both sides.
template <class T>
inline T sigmoid_neg(T x) {
  const T e = std::exp(-std::abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= 0 ? e * r : r;  // a select, not a branch: the sign of x is random
}

// Per-element loss and d loss / dx, in the input's precision (float math for float32).
// BCE's loss is computed a block at a time in pointwise_loss (vector logs).
template <Pointwise K, class T>
inline T loss_at(T x, T y, T pos_weight) {
  static_assert(K != Pointwise::BCE);
  if constexpr (K == Pointwise::MSE) return (x - y) * (x - y);
  else if constexpr (K == Pointwise::L1) return std::abs(x - y);
  else return (T(1) - y) * x + (T(1) + (pos_weight - T(1)) * y) * softplus_neg(x);
}

template <Pointwise K, class T>
inline T grad_at(T x, T y, T pos_weight) {
  if constexpr (K == Pointwise::MSE) return T(2) * (x - y);
  else if constexpr (K == Pointwise::L1) return T((x > y) - (x < y));
  else if constexpr (K == Pointwise::BCE) return (x - y) / std::max((T(1) - x) * x, T(1e-12));
  else return (T(1) - y) - (T(1) + (pos_weight - T(1)) * y) * sigmoid_neg(x);
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
  check_device(x, Device::CPU, op);
  check_device(y, Device::CPU, op);
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
    check_device(**in, Device::CPU, op);
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
void dispatch_kind(Pointwise k, const F& fn) {
  switch (k) {
    case Pointwise::MSE: return fn.template operator()<Pointwise::MSE>();
    case Pointwise::L1: return fn.template operator()<Pointwise::L1>();
    case Pointwise::BCE: return fn.template operator()<Pointwise::BCE>();
    case Pointwise::BCEWithLogits: return fn.template operator()<Pointwise::BCEWithLogits>();
  }
}

}  // namespace

NDArray pointwise_loss(const std::string& kind_s, const NDArray& x_in, const NDArray& y_in,
                       const std::optional<NDArray>& weight_in, const std::optional<NDArray>& pos_weight_in,
                       const std::string& reduction) {
  const PointwiseArgs a = pointwise_args(kind_s, x_in, y_in, weight_in, pos_weight_in, reduction);
  const char* op = kind_name(a.kind);
  const int64_t n = a.x.numel();
  NDArray out = a.red == Reduction::None ? empty(a.x.shape, a.x.dtype) : NDArray();
  double total = 0;
  // BCE's inputs are probabilities: the first one outside [0, 1] (or NaN) is reported after the loop.
  const int64_t block = sum_block_rows(1);
  std::vector<int64_t> first_bad((n + block - 1) / block, -1);
  dispatch_float(a.x.dtype, op, [&]<class T>() {
    const T* px = a.x.data<T>();
    const T* py = a.y.data<T>();
    const T* pw = a.weight ? a.weight->data<T>() : nullptr;
    const T* ppw = a.pos_weight ? a.pos_weight->data<T>() : nullptr;
    T* po = a.red == Reduction::None ? out.data<T>() : nullptr;
    dispatch_kind(a.kind, [&]<Pointwise K>() {
      auto block_sum = [&](int64_t b, int64_t e) -> std::pair<double, double> {
        double s = 0;
        if constexpr (K == Pointwise::BCE) {
          // The two logs run through the ISA's vector log a chunk at a time: scalar
          // logf + log1pf took 15 ns per element (a 256x784 auto-encoder batch: 3 ms).
          const auto& vlog = vec::kernels<T>().log;
          constexpr int64_t kChunk = 256;
          T log_x[kChunk], log_1mx[kChunk];
          for (int64_t c0 = b; c0 < e; c0 += kChunk) {
            const int64_t m = std::min(kChunk, e - c0);
            for (int64_t i = 0; i < m; ++i) {
              const T xi = px[c0 + i];
              if (!(xi >= T(0) && xi <= T(1)) && first_bad[b / block] < 0) first_bad[b / block] = c0 + i;
              log_1mx[i] = T(1) - xi;  // exact for x >= 1/2; below, its rounding is under the loss's own
            }
            vlog(px + c0, log_x, m);
            vlog(log_1mx, log_1mx, m);
            for (int64_t i = 0; i < m; ++i) {
              const T yi = py[c0 + i];
              // PyTorch clamps each log at -100 so that x = 0 or 1 gives a finite loss.
              T l = -(yi * std::max(log_x[i], T(-100)) + (T(1) - yi) * std::max(log_1mx[i], T(-100)));
              if (pw) l *= pw[c0 + i];
              if (po) po[c0 + i] = l;
              s += double(l);
            }
          }
        } else {
          for (int64_t i = b; i < e; ++i) {
            T l = loss_at<K, T>(px[i], py[i], ppw ? ppw[i] : T(1));
            if (pw) l *= pw[i];
            if (po) po[i] = l;
            s += double(l);
          }
        }
        return {s, 0.0};
      };
      total = blocked_sum(n, block, block_sum).first;
    });
    for (int64_t bad : first_bad)
      DC_CHECK(bad < 0, op << ": all input elements must lie in [0, 1] (probabilities, e.g. after sigmoid), but "
                           << "element " << bad << " is " << double(px[bad])
                           << "; for raw scores use binary_cross_entropy_with_logits / BCEWithLogitsLoss");
  });
  if (a.red == Reduction::None) return out;
  return scalar_of(a.red == Reduction::Mean ? total / double(n) : total, a.x.dtype);
}

NDArray pointwise_loss_backward(const std::string& kind_s, const NDArray& grad_in, const NDArray& x_in,
                                const NDArray& y_in, const std::optional<NDArray>& weight_in,
                                const std::optional<NDArray>& pos_weight_in, const std::string& reduction) {
  const PointwiseArgs a = pointwise_args(kind_s, x_in, y_in, weight_in, pos_weight_in, reduction);
  const char* op = kind_name(a.kind);
  check_device(grad_in, Device::CPU, op);
  const Shape want_grad = a.red == Reduction::None ? a.x.shape : Shape{};
  DC_CHECK(grad_in.shape == want_grad, op << " backward: gradient of shape " << shape_str(grad_in.shape)
                                          << ", expected " << shape_str(want_grad));
  DC_CHECK_TYPE(grad_in.dtype == a.x.dtype, op << " backward: gradient dtype " << dtype_name(grad_in.dtype)
                                               << " differs from the input's " << dtype_name(a.x.dtype));
  const NDArray grad = contiguous(grad_in);
  const int64_t n = a.x.numel();
  NDArray out = empty(a.x.shape, a.x.dtype);
  dispatch_float(a.x.dtype, op, [&]<class T>() {
    const T* px = a.x.data<T>();
    const T* py = a.y.data<T>();
    const T* pw = a.weight ? a.weight->data<T>() : nullptr;
    const T* ppw = a.pos_weight ? a.pos_weight->data<T>() : nullptr;
    const T* pg = grad.data<T>();
    T* po = out.data<T>();
    const T scalar_grad = static_cast<T>(a.red == Reduction::None ? 0.0
                                         : a.red == Reduction::Mean ? double(pg[0]) / double(n)
                                                                    : double(pg[0]));
    const bool per_element = a.red == Reduction::None;
    dispatch_kind(a.kind, [&]<Pointwise K>() {
      parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          T g = per_element ? pg[i] : scalar_grad;
          if (pw) g *= pw[i];
          po[i] = g * grad_at<K, T>(px[i], py[i], ppw ? ppw[i] : T(1));
        }
      });
    });
  });
  return out;
}

}  // namespace deepcore::cpu
