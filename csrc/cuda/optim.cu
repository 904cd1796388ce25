// Fused optimizer updates (see optim.h): the CUDA twin of csrc/cpu/optim.cpp and its element loops
// (csrc/cpu/optim_loops.h), whose arithmetic mirrors PyTorch's single-tensor implementations
// operation by operation; the kernels below repeat it in the same order, in the parameter's
// precision. Each kernel is a grid-stride loop over one parameter's elements.
#include "cuda/optim.h"

#include <cmath>
#include <initializer_list>
#include <utility>

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

#define DC_GRID_STRIDE(k, n) \
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < (n); k += int64_t(blockDim.x) * gridDim.x)

__device__ __forceinline__ float root(float x) { return sqrtf(x); }
__device__ __forceinline__ double root(double x) { return sqrt(x); }

// ---- kernels -------------------------------------------------------------------------------------

// buf is null without momentum; fresh: PyTorch's first step, where the buffer is the gradient.
template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, int64_t n, T neg_lr, T wd, T mom, T keep, bool decay,
                           bool maximize, bool nesterov, bool fresh) {
  DC_GRID_STRIDE(k, n) {
    T d = maximize ? -g[k] : g[k];
    if (decay) d = d + wd * p[k];
    if (buf) {
      const T v = fresh ? d : mom * buf[k] + keep * d;
      buf[k] = v;
      d = nesterov ? d + mom * v : v;
    }
    p[k] = p[k] + neg_lr * d;
  }
}

// buf is null without momentum, gavg null unless centered.
template <class T>
__global__ void rmsprop_kernel(T* p, const T* g, T* sq, T* buf, T* gavg, int64_t n, T alpha, T one_minus_alpha, T eps,
                               T wd, T mom, T neg_lr, bool decay, bool maximize) {
  DC_GRID_STRIDE(k, n) {
    T d = maximize ? -g[k] : g[k];
    if (decay) d = d + wd * p[k];
    const T s = alpha * sq[k] + one_minus_alpha * d * d;
    sq[k] = s;
    T denom;
    if (gavg) {
      const T m = gavg[k] + one_minus_alpha * (d - gavg[k]);  // lerp towards the gradient
      gavg[k] = m;
      denom = root(s - m * m) + eps;
    } else {
      denom = root(s) + eps;  // eps outside the root, as PyTorch
    }
    if (buf) {
      const T v = mom * buf[k] + d / denom;
      buf[k] = v;
      p[k] = p[k] + neg_lr * v;
    } else {
      p[k] = p[k] + neg_lr * (d / denom);
    }
  }
}

template <class T>
__global__ void adagrad_kernel(T* p, const T* g, T* sum, int64_t n, T neg_clr, T eps, T wd, bool decay, bool maximize) {
  DC_GRID_STRIDE(k, n) {
    T d = maximize ? -g[k] : g[k];
    if (decay) d = d + wd * p[k];
    const T s = sum[k] + d * d;
    sum[k] = s;
    p[k] = p[k] + neg_clr * (d / (root(s) + eps));
  }
}

template <class T>
__global__ void adadelta_kernel(T* p, const T* g, T* sq, T* acc, int64_t n, T rho, T one_minus_rho, T eps, T wd,
                                T neg_lr, bool decay, bool maximize) {
  DC_GRID_STRIDE(k, n) {
    T d = maximize ? -g[k] : g[k];
    if (decay) d = d + wd * p[k];
    const T s = rho * sq[k] + one_minus_rho * d * d;
    sq[k] = s;
    // RMS of past updates over RMS of gradients, both with eps inside the root.
    const T delta = root(acc[k] + eps) / root(s + eps) * d;
    acc[k] = rho * acc[k] + one_minus_rho * delta * delta;
    p[k] = p[k] + neg_lr * delta;
  }
}

// m2max is null unless amsgrad. decoupled: AdamW's shrink of the weights; coupled: Adam's L2 term.
template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m1, T* m2, T* m2max, int64_t n, T neg_step_size, T bc2_sqrt, T b2,
                            T one_minus_b1, T one_minus_b2, T eps, T wd, T shrink, T sign, bool decoupled,
                            bool coupled) {
  DC_GRID_STRIDE(k, n) {
    T d = sign * g[k];
    T theta = p[k];
    if (decoupled) theta = theta * shrink;
    if (coupled) d = d + wd * theta;
    const T m = m1[k] + one_minus_b1 * (d - m1[k]);  // lerp towards the gradient
    m1[k] = m;
    T v = b2 * m2[k] + one_minus_b2 * d * d;
    m2[k] = v;
    if (m2max) {
      v = m2max[k] > v ? m2max[k] : v;
      m2max[k] = v;
    }
    p[k] = theta + neg_step_size * (m / (root(v) / bc2_sqrt + eps));
  }
}

// ---- checks (the CPU's, with CUDA in place of the CPU) -------------------------------------------

void check_param(const NDArray& p, const NDArray& first, const char* op, size_t i) {
  DC_CHECK(p.storage && p.device() == Device::CUDA,
           op << ": parameter " << i << " is on " << device_name(p.device()) << "; this kernel runs on CUDA");
  DC_CHECK(p.storage->device_index == first.storage->device_index,
           op << ": parameter " << i << " is on cuda:" << p.storage->device_index << " but parameter 0 is on cuda:"
              << first.storage->device_index);
  DC_CHECK_TYPE(p.dtype == DType::Float32 || p.dtype == DType::Float64,
                op << ": parameter " << i << " is " << dtype_name(p.dtype) << "; expected float32 or float64");
  DC_CHECK(p.is_contiguous(), op << ": parameter " << i << " (" << describe(p) << ") is not contiguous");
}

// `t` (a gradient or a state tensor) must match parameter i exactly and not alias it.
void check_like(const NDArray& t, const NDArray& p, const char* op, const char* what, size_t i) {
  DC_CHECK(t.storage && t.device() == p.device() && t.storage->device_index == p.storage->device_index,
           op << ": " << what << " of parameter " << i << " is on " << device_name(t.device())
              << " but the parameter is on cuda:" << p.storage->device_index);
  DC_CHECK_TYPE(t.dtype == p.dtype, op << ": " << what << " of parameter " << i << " is " << dtype_name(t.dtype)
                                       << " but the parameter is " << dtype_name(p.dtype));
  DC_CHECK(t.shape == p.shape, op << ": " << what << " of parameter " << i << " has shape " << shape_str(t.shape)
                                  << " but the parameter has shape " << shape_str(p.shape));
  DC_CHECK(t.is_contiguous(), op << ": " << what << " of parameter " << i << " (" << describe(t)
                                 << ") is not contiguous");
  DC_CHECK(t.storage != p.storage || p.numel() == 0,
           op << ": " << what << " of parameter " << i << " shares memory with the parameter");
}

void check_count(size_t got, size_t n, const char* op, const char* what) {
  DC_CHECK(got == n, op << ": " << n << " parameters but " << got << " " << what);
}

void check_group(const NDArrays& params, const NDArrays& grads,
                 std::initializer_list<std::pair<const NDArrays*, const char*>> states, const char* op) {
  const size_t n = params.size();
  check_count(grads.size(), n, op, "gradients");
  for (auto& [list, name] : states) check_count(list->size(), n, op, name);
  for (size_t i = 0; i < n; ++i) {
    check_param(params[i], params[0], op, i);
    check_like(grads[i], params[i], op, "gradient", i);
    for (auto& [list, name] : states) check_like((*list)[i], params[i], op, name, i);
  }
}

// Increments each (CPU) counter and returns the new values (PyTorch's `step += 1` before the update).
std::vector<double> advance_steps(const NDArrays& steps, size_t n, const char* op) {
  check_count(steps.size(), n, op, "step counters");
  for (size_t i = 0; i < n; ++i) {
    const NDArray& s = steps[i];
    DC_CHECK(s.device() == Device::CPU, op << ": step counter of parameter " << i << " must live on the CPU, got "
                                           << device_name(s.device()));
    DC_CHECK_TYPE(s.dtype == DType::Float32 || s.dtype == DType::Float64,
                  op << ": step counter of parameter " << i << " is " << dtype_name(s.dtype)
                     << "; expected float32 or float64");
    DC_CHECK(s.numel() == 1, op << ": step counter of parameter " << i << " has shape " << shape_str(s.shape)
                                << "; expected one element");
  }
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) {
    const NDArray& s = steps[i];
    if (s.dtype == DType::Float32)
      values[i] = static_cast<double>(++*s.data<float>());
    else
      values[i] = ++*s.data<double>();
    s.bump_version();
  }
  return values;
}

template <class T>
T* ptr(const NDArrays& list, size_t i) {
  return list.empty() ? nullptr : list[i].data<T>();
}

void bump_all(std::initializer_list<const NDArrays*> lists) {
  for (const NDArrays* list : lists)
    for (const NDArray& a : *list) a.bump_version();
}

// fn(i, T{}) for each non-empty parameter, on the group's device.
template <class F>
void for_each_param(const NDArrays& params, const char* op, F&& fn) {
  if (params.empty()) return;
  detail::DeviceGuard guard(params[0].storage->device_index, op);
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].numel() == 0) continue;
    if (params[i].dtype == DType::Float32)
      fn(i, float{});
    else
      fn(i, double{});
  }
}

}  // namespace

void sgd_step(const NDArrays& params, const NDArrays& grads, const NDArrays& momentum_buffers,
              const std::vector<bool>& buffer_is_new, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize) {
  const char* op = "sgd_step";
  const bool use_momentum = momentum != 0.0;
  if (use_momentum) {
    check_group(params, grads, {{&momentum_buffers, "momentum buffers"}}, op);
    check_count(buffer_is_new.size(), params.size(), op, "buffer_is_new flags");
  } else {
    check_group(params, grads, {}, op);
    DC_CHECK(momentum_buffers.empty(), op << ": momentum is 0 but momentum buffers were given");
  }
  DC_CHECK(!nesterov || (use_momentum && dampening == 0.0),
           op << ": Nesterov momentum requires a momentum and zero dampening");
  for_each_param(params, op, [&](size_t i, auto tag) {
    using T = decltype(tag);
    const int64_t n = params[i].numel();
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, sgd_kernel<T>)(
        params[i].data<T>(), grads[i].data<T>(), ptr<T>(momentum_buffers, i), n, T(-lr), T(weight_decay),
        T(momentum), T(1.0 - dampening), weight_decay != 0.0, maximize, nesterov,
        use_momentum && buffer_is_new[i]);
  });
  bump_all({&params, &momentum_buffers});
}

void rmsprop_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                  const NDArrays& momentum_buffers, const NDArrays& grad_avgs, const NDArrays& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  const char* op = "rmsprop_step";
  const bool use_momentum = momentum > 0.0;
  check_group(params, grads, {{&square_avgs, "square averages"}}, op);
  if (use_momentum)
    check_group(params, grads, {{&momentum_buffers, "momentum buffers"}}, op);
  else
    DC_CHECK(momentum_buffers.empty(), op << ": momentum is 0 but momentum buffers were given");
  if (centered)
    check_group(params, grads, {{&grad_avgs, "gradient averages"}}, op);
  else
    DC_CHECK(grad_avgs.empty(), op << ": centered is False but gradient averages were given");
  advance_steps(steps, params.size(), op);
  for_each_param(params, op, [&](size_t i, auto tag) {
    using T = decltype(tag);
    const int64_t n = params[i].numel();
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, rmsprop_kernel<T>)(
        params[i].data<T>(), grads[i].data<T>(), square_avgs[i].data<T>(), ptr<T>(momentum_buffers, i),
        ptr<T>(grad_avgs, i), n, T(alpha), T(1.0 - alpha), T(eps), T(weight_decay), T(momentum), T(-lr),
        weight_decay != 0.0, maximize);
  });
  bump_all({&params, &square_avgs, &momentum_buffers, &grad_avgs});
}

void adagrad_step(const NDArrays& params, const NDArrays& grads, const NDArrays& sums, const NDArrays& steps,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
  const char* op = "adagrad_step";
  check_group(params, grads, {{&sums, "sums"}}, op);
  const std::vector<double> step = advance_steps(steps, params.size(), op);
  for_each_param(params, op, [&](size_t i, auto tag) {
    using T = decltype(tag);
    const int64_t n = params[i].numel();
    const double clr = lr / (1.0 + (step[i] - 1.0) * lr_decay);
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, adagrad_kernel<T>)(
        params[i].data<T>(), grads[i].data<T>(), sums[i].data<T>(), n, T(-clr), T(eps), T(weight_decay),
        weight_decay != 0.0, maximize);
  });
  bump_all({&params, &sums});
}

void adadelta_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                   const NDArrays& acc_deltas, const NDArrays& steps, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  const char* op = "adadelta_step";
  check_group(params, grads, {{&square_avgs, "square averages"}, {&acc_deltas, "accumulated deltas"}}, op);
  advance_steps(steps, params.size(), op);
  for_each_param(params, op, [&](size_t i, auto tag) {
    using T = decltype(tag);
    const int64_t n = params[i].numel();
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, adadelta_kernel<T>)(
        params[i].data<T>(), grads[i].data<T>(), square_avgs[i].data<T>(), acc_deltas[i].data<T>(), n, T(rho),
        T(1.0 - rho), T(eps), T(weight_decay), T(-lr), weight_decay != 0.0, maximize);
  });
  bump_all({&params, &square_avgs, &acc_deltas});
}

void adam_step(const NDArrays& params, const NDArrays& grads, const NDArrays& exp_avgs, const NDArrays& exp_avg_sqs,
               const NDArrays& max_exp_avg_sqs, const NDArrays& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay) {
  const char* op = decoupled_weight_decay ? "adamw_step" : "adam_step";
  check_group(params, grads, {{&exp_avgs, "first moments"}, {&exp_avg_sqs, "second moments"}}, op);
  if (amsgrad)
    check_group(params, grads, {{&max_exp_avg_sqs, "maximum second moments"}}, op);
  else
    DC_CHECK(max_exp_avg_sqs.empty(), op << ": amsgrad is False but maximum second moments were given");
  const std::vector<double> step = advance_steps(steps, params.size(), op);
  const bool decays = weight_decay != 0.0;
  for_each_param(params, op, [&](size_t i, auto tag) {
    using T = decltype(tag);
    const int64_t n = params[i].numel();
    const double bias_correction1 = 1.0 - std::pow(beta1, step[i]);
    const double bias_correction2 = 1.0 - std::pow(beta2, step[i]);
    DEEPCORE_LAUNCH(op, detail::grid_for(n), detail::kThreads, adam_kernel<T>)(
        params[i].data<T>(), grads[i].data<T>(), exp_avgs[i].data<T>(), exp_avg_sqs[i].data<T>(),
        ptr<T>(max_exp_avg_sqs, i), n, T(-(lr / bias_correction1)), T(std::sqrt(bias_correction2)), T(beta2),
        T(1.0 - beta1), T(1.0 - beta2), T(eps), T(weight_decay), T(1.0 - lr * weight_decay), maximize ? T(-1) : T(1),
        decays && decoupled_weight_decay, decays && !decoupled_weight_decay);
  });
  bump_all({&params, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs});
}

}  // namespace deepcore::cuda
