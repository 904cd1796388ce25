// Fused optimizer updates (see optim.h). Each kernel validates every tensor
// of the group first, then walks all of them as one list of fixed-size chunks
// so that both one huge weight and many small biases keep every thread busy;
// the element loops (optim_loops.h) run in the instruction set cpu_isa() picks.
#include "cpu/optim.h"

#include <cmath>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "cpu/optim_kernels.h"

namespace deepcore::cpu {

namespace {

constexpr int64_t kChunk = 16384;              // elements per unit of work
constexpr int64_t kParallelThreshold = 65536;  // below this many elements in a group: one thread

void check_param(const NDArray& p, const char* op, size_t i) {
  DC_CHECK(p.device() == Device::CPU, op << ": parameter " << i << " is on " << device_name(p.device())
                                         << "; this kernel runs on the CPU");
  DC_CHECK_TYPE(p.dtype == DType::Float32 || p.dtype == DType::Float64,
                op << ": parameter " << i << " is " << dtype_name(p.dtype) << "; expected float32 or float64");
  DC_CHECK(p.is_contiguous(), op << ": parameter " << i << " (" << describe(p) << ") is not contiguous");
}

// `t` (a gradient or a state tensor) must match parameter i exactly and not alias it.
void check_like(const NDArray& t, const NDArray& p, const char* op, const char* what, size_t i) {
  DC_CHECK(t.device() == p.device(), op << ": " << what << " of parameter " << i << " is on "
                                        << device_name(t.device()) << " but the parameter is on "
                                        << device_name(p.device()));
  DC_CHECK_TYPE(t.dtype == p.dtype, op << ": " << what << " of parameter " << i << " is " << dtype_name(t.dtype)
                                       << " but the parameter is " << dtype_name(p.dtype));
  DC_CHECK(t.shape == p.shape, op << ": " << what << " of parameter " << i << " has shape " << shape_str(t.shape)
                                  << " but the parameter has shape " << shape_str(p.shape));
  DC_CHECK(t.is_contiguous(), op << ": " << what << " of parameter " << i << " (" << describe(t)
                                 << ") is not contiguous");
  DC_CHECK(t.storage != p.storage || p.numel() == 0,
           op << ": " << what << " of parameter " << i << " shares memory with the parameter");
}

void check_step(const NDArray& s, const char* op, size_t i) {
  DC_CHECK(s.device() == Device::CPU, op << ": step counter of parameter " << i << " must live on the CPU, got "
                                         << device_name(s.device()));
  DC_CHECK_TYPE(s.dtype == DType::Float32 || s.dtype == DType::Float64,
                op << ": step counter of parameter " << i << " is " << dtype_name(s.dtype)
                   << "; expected float32 or float64");
  DC_CHECK(s.numel() == 1, op << ": step counter of parameter " << i << " has shape " << shape_str(s.shape)
                              << "; expected one element");
}

void check_count(size_t got, size_t n, const char* op, const char* what) {
  DC_CHECK(got == n, op << ": " << n << " parameters but " << got << " " << what);
}

// Checks params/grads and the state lists (an empty list is an absent state).
void check_group(const NDArrays& params, const NDArrays& grads,
                 std::initializer_list<std::pair<const NDArrays*, const char*>> states, const char* op) {
  const size_t n = params.size();
  check_count(grads.size(), n, op, "gradients");
  for (auto& [list, name] : states) check_count(list->size(), n, op, name);
  for (size_t i = 0; i < n; ++i) {
    check_param(params[i], op, i);
    check_like(grads[i], params[i], op, "gradient", i);
    for (auto& [list, name] : states) check_like((*list)[i], params[i], op, name, i);
  }
}

// Increments each counter and returns the new values (PyTorch's `step += 1` before the update).
std::vector<double> advance_steps(const NDArrays& steps, size_t n, const char* op) {
  check_count(steps.size(), n, op, "step counters");
  for (size_t i = 0; i < n; ++i) check_step(steps[i], op, i);
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) {
    const NDArray& s = steps[i];
    if (s.dtype == DType::Float32) values[i] = static_cast<double>(++*s.data<float>());
    else values[i] = ++*s.data<double>();
    s.bump_version();
  }
  return values;
}

struct Chunk {
  int64_t tensor, begin, end;
};

// fn(i, begin, end) on [begin, end) of tensor i, over all tensors, threaded when large.
template <class F>
void for_each_chunk(const NDArrays& params, const F& fn) {
  std::vector<Chunk> chunks;
  int64_t total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    total += n;
    for (int64_t b = 0; b < n; b += kChunk) chunks.push_back({static_cast<int64_t>(i), b, std::min(n, b + kChunk)});
  }
  const int64_t count = static_cast<int64_t>(chunks.size());
  const int64_t grain = total < kParallelThreshold ? count : 1;
  parallel_for(count, grain, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) fn(chunks[c].tensor, chunks[c].begin, chunks[c].end);
  });
}

template <class T>
T* ptr(const NDArrays& list, int64_t i) {
  return list.empty() ? nullptr : list[i].data<T>();
}

void bump_all(std::initializer_list<const NDArrays*> lists) {
  for (const NDArrays* list : lists)
    for (const NDArray& a : *list) a.bump_version();
}

using namespace optim_detail;

// The loop set compiled for the instruction set in use (read once per call, outside threads).
OptimLoopSet loops_for(CpuIsa isa) {
#ifdef DEEPCORE_X86
  if (isa == CpuIsa::AVX512) return avx512_loops();
  if (isa == CpuIsa::AVX2) return avx2_loops();
#endif
  (void)isa;
  return portable_loops();
}

// Calls fn(loops, zero) with the loop set for `dtype` (zero: a T to deduce the type from).
template <class F>
void with_loops(DType dtype, const OptimLoopSet& set, const F& fn) {
  if (dtype == DType::Float32) fn(set.f32, float{});
  else fn(set.f64, double{});
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
  const OptimLoopSet loops = loops_for(cpu_isa());
  for_each_chunk(params, [&](int64_t i, int64_t b, int64_t e) {
    with_loops(params[i].dtype, loops, [&](const auto& loop, auto zero) {
      using T = decltype(zero);
      T* buf = ptr<T>(momentum_buffers, i);
      const SgdArgs args{lr, momentum, dampening, weight_decay, nesterov, maximize, use_momentum,
                         use_momentum && buffer_is_new[i]};
      loop.sgd(params[i].data<T>() + b, grads[i].data<T>() + b, buf ? buf + b : nullptr, e - b, args);
    });
  });
  bump_all({&params, &momentum_buffers});
}

void rmsprop_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                  const NDArrays& momentum_buffers, const NDArrays& grad_avgs, const NDArrays& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  const char* op = "rmsprop_step";
  const bool use_momentum = momentum > 0.0;
  check_group(params, grads, {{&square_avgs, "square averages"}}, op);
  if (use_momentum) check_group(params, grads, {{&momentum_buffers, "momentum buffers"}}, op);
  else DC_CHECK(momentum_buffers.empty(), op << ": momentum is 0 but momentum buffers were given");
  if (centered) check_group(params, grads, {{&grad_avgs, "gradient averages"}}, op);
  else DC_CHECK(grad_avgs.empty(), op << ": centered is False but gradient averages were given");
  advance_steps(steps, params.size(), op);
  const OptimLoopSet loops = loops_for(cpu_isa());
  const RmspropArgs args{lr, alpha, eps, weight_decay, momentum, centered, use_momentum, maximize};
  for_each_chunk(params, [&](int64_t i, int64_t b, int64_t e) {
    with_loops(params[i].dtype, loops, [&](const auto& loop, auto zero) {
      using T = decltype(zero);
      T* buf = ptr<T>(momentum_buffers, i);
      T* gavg = ptr<T>(grad_avgs, i);
      loop.rmsprop(params[i].data<T>() + b, grads[i].data<T>() + b, square_avgs[i].data<T>() + b,
                   buf ? buf + b : nullptr, gavg ? gavg + b : nullptr, e - b, args);
    });
  });
  bump_all({&params, &square_avgs, &momentum_buffers, &grad_avgs});
}

void adagrad_step(const NDArrays& params, const NDArrays& grads, const NDArrays& sums, const NDArrays& steps,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
  const char* op = "adagrad_step";
  check_group(params, grads, {{&sums, "sums"}}, op);
  const std::vector<double> step = advance_steps(steps, params.size(), op);
  const OptimLoopSet loops = loops_for(cpu_isa());
  for_each_chunk(params, [&](int64_t i, int64_t b, int64_t e) {
    with_loops(params[i].dtype, loops, [&](const auto& loop, auto zero) {
      using T = decltype(zero);
      const AdagradArgs args{lr / (1.0 + (step[i] - 1.0) * lr_decay), eps, weight_decay, maximize};
      loop.adagrad(params[i].data<T>() + b, grads[i].data<T>() + b, sums[i].data<T>() + b, e - b, args);
    });
  });
  bump_all({&params, &sums});
}

void adadelta_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                   const NDArrays& acc_deltas, const NDArrays& steps, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  const char* op = "adadelta_step";
  check_group(params, grads, {{&square_avgs, "square averages"}, {&acc_deltas, "accumulated deltas"}}, op);
  advance_steps(steps, params.size(), op);
  const OptimLoopSet loops = loops_for(cpu_isa());
  const AdadeltaArgs args{lr, rho, eps, weight_decay, maximize};
  for_each_chunk(params, [&](int64_t i, int64_t b, int64_t e) {
    with_loops(params[i].dtype, loops, [&](const auto& loop, auto zero) {
      using T = decltype(zero);
      loop.adadelta(params[i].data<T>() + b, grads[i].data<T>() + b, square_avgs[i].data<T>() + b,
                    acc_deltas[i].data<T>() + b, e - b, args);
    });
  });
  bump_all({&params, &square_avgs, &acc_deltas});
}

void adam_step(const NDArrays& params, const NDArrays& grads, const NDArrays& exp_avgs, const NDArrays& exp_avg_sqs,
               const NDArrays& max_exp_avg_sqs, const NDArrays& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay) {
  const char* op = decoupled_weight_decay ? "adamw_step" : "adam_step";
  check_group(params, grads, {{&exp_avgs, "first moments"}, {&exp_avg_sqs, "second moments"}}, op);
  if (amsgrad) check_group(params, grads, {{&max_exp_avg_sqs, "maximum second moments"}}, op);
  else DC_CHECK(max_exp_avg_sqs.empty(), op << ": amsgrad is False but maximum second moments were given");
  const std::vector<double> step = advance_steps(steps, params.size(), op);
  const OptimLoopSet loops = loops_for(cpu_isa());
  for_each_chunk(params, [&](int64_t i, int64_t b, int64_t e) {
    with_loops(params[i].dtype, loops, [&](const auto& loop, auto zero) {
      using T = decltype(zero);
      const double bias_correction1 = 1.0 - std::pow(beta1, step[i]);
      const double bias_correction2 = 1.0 - std::pow(beta2, step[i]);
      const AdamArgs args{lr / bias_correction1, std::sqrt(bias_correction2), beta1, beta2, eps, weight_decay, lr,
                          amsgrad, maximize, decoupled_weight_decay};
      T* m2max = ptr<T>(max_exp_avg_sqs, i);
      loop.adam(params[i].data<T>() + b, grads[i].data<T>() + b, exp_avgs[i].data<T>() + b,
                exp_avg_sqs[i].data<T>() + b, m2max ? m2max + b : nullptr, e - b, args);
    });
  });
  bump_all({&params, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs});
}

}  // namespace deepcore::cpu
