// The optimizer element loops, written once. optim_portable.cpp,
// optim_avx2.cpp and optim_avx512.cpp each include this header and hand
// optim.cpp a table of these loops compiled with their own ISA flags
// (optim_kernels.h). The arithmetic mirrors PyTorch's single-tensor
// implementations operation by operation.
//
// Everything here has internal linkage and calls only compiler builtins, no
// std:: functions: an inline function or template shared between the three
// files would be merged by the linker into one copy, possibly the AVX-512 one,
// which would then run on a CPU without AVX-512. Internal linkage keeps the
// three copies apart, so the loops need no per-file namespace or macro.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cpu/optim_kernels.h"

namespace deepcore::cpu::optim_detail {
namespace {

inline float root(float x) { return __builtin_sqrtf(x); }
inline double root(double x) { return __builtin_sqrt(x); }

// f(std::true_type{}) or f(std::false_type{}): the flags that decide which arrays a loop
// stores to become compile-time, so no loop has a conditional store and all vectorize.
template <class F>
inline void with_flag(bool flag, const F& f) {
  if (flag) f(std::true_type{});
  else f(std::false_type{});
}

template <class T>
void sgd(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t n, const SgdArgs& a) {
  const T neg_lr = T(-a.lr), wd = T(a.weight_decay), mom = T(a.momentum), keep = T(1.0 - a.dampening);
  const bool decay = a.weight_decay != 0.0, maximize = a.maximize, nesterov = a.nesterov, fresh = a.buffer_is_new;
  with_flag(a.use_momentum, [&](auto has_momentum) {
    for (int64_t k = 0; k < n; ++k) {
      T d = maximize ? -g[k] : g[k];
      if (decay) d = d + wd * p[k];
      if constexpr (has_momentum) {
        const T v = fresh ? d : mom * buf[k] + keep * d;  // PyTorch's first step: the buffer is the gradient
        buf[k] = v;
        d = nesterov ? d + mom * v : v;
      }
      p[k] = p[k] + neg_lr * d;
    }
  });
}

template <class T>
void rmsprop(T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict buf, T* __restrict gavg,
             int64_t n, const RmspropArgs& a) {
  const T alpha = T(a.alpha), one_minus_alpha = T(1.0 - a.alpha), eps = T(a.eps), wd = T(a.weight_decay),
          mom = T(a.momentum), neg_lr = T(-a.lr);
  const bool decay = a.weight_decay != 0.0, maximize = a.maximize;
  with_flag(a.centered, [&](auto centered) {
    with_flag(a.use_momentum, [&](auto has_momentum) {
      for (int64_t k = 0; k < n; ++k) {
        T d = maximize ? -g[k] : g[k];
        if (decay) d = d + wd * p[k];
        const T s = alpha * sq[k] + one_minus_alpha * d * d;
        sq[k] = s;
        T denom;
        if constexpr (centered) {
          const T m = gavg[k] + one_minus_alpha * (d - gavg[k]);  // lerp towards the gradient
          gavg[k] = m;
          denom = root(s - m * m) + eps;
        } else {
          denom = root(s) + eps;  // eps outside the root, as PyTorch
        }
        if constexpr (has_momentum) {
          const T v = mom * buf[k] + d / denom;
          buf[k] = v;
          p[k] = p[k] + neg_lr * v;
        } else {
          p[k] = p[k] + neg_lr * (d / denom);
        }
      }
    });
  });
}

template <class T>
void adagrad(T* __restrict p, const T* __restrict g, T* __restrict sum, int64_t n, const AdagradArgs& a) {
  const T neg_clr = T(-a.clr), eps = T(a.eps), wd = T(a.weight_decay);
  const bool decay = a.weight_decay != 0.0, maximize = a.maximize;
  for (int64_t k = 0; k < n; ++k) {
    T d = maximize ? -g[k] : g[k];
    if (decay) d = d + wd * p[k];
    const T s = sum[k] + d * d;
    sum[k] = s;
    p[k] = p[k] + neg_clr * (d / (root(s) + eps));
  }
}

template <class T>
void adadelta(T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict acc, int64_t n,
              const AdadeltaArgs& a) {
  const T rho = T(a.rho), one_minus_rho = T(1.0 - a.rho), eps = T(a.eps), wd = T(a.weight_decay), neg_lr = T(-a.lr);
  const bool decay = a.weight_decay != 0.0, maximize = a.maximize;
  for (int64_t k = 0; k < n; ++k) {
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

template <class T>
void adam(T* __restrict p, const T* __restrict g, T* __restrict m1, T* __restrict m2, T* __restrict m2max, int64_t n,
          const AdamArgs& a) {
  const T neg_step_size = T(-a.step_size), bc2_sqrt = T(a.bias_correction2_sqrt), b2 = T(a.beta2),
          one_minus_b1 = T(1.0 - a.beta1), one_minus_b2 = T(1.0 - a.beta2), eps = T(a.eps), wd = T(a.weight_decay),
          shrink = T(1.0 - a.lr * a.weight_decay);
  const T sign = a.maximize ? T(-1) : T(1);  // exact, and keeps the loop free of control flow
  const bool decays = a.weight_decay != 0.0;
  with_flag(decays && a.decoupled_weight_decay, [&](auto decoupled) {
    with_flag(decays && !a.decoupled_weight_decay, [&](auto coupled) {
      with_flag(a.amsgrad, [&](auto amsgrad) {
        for (int64_t k = 0; k < n; ++k) {
          T d = sign * g[k];
          T theta = p[k];
          if constexpr (decoupled) theta = theta * shrink;  // AdamW
          if constexpr (coupled) d = d + wd * theta;
          const T m = m1[k] + one_minus_b1 * (d - m1[k]);  // lerp towards the gradient
          m1[k] = m;
          T v = b2 * m2[k] + one_minus_b2 * d * d;
          m2[k] = v;
          if constexpr (amsgrad) {
            v = m2max[k] > v ? m2max[k] : v;
            m2max[k] = v;
          }
          p[k] = theta + neg_step_size * (m / (root(v) / bc2_sqrt + eps));
        }
      });
    });
  });
}

template <class T>
OptimLoops<T> loops_of() {
  return {&sgd<T>, &rmsprop<T>, &adagrad<T>, &adadelta<T>, &adam<T>};
}

// The table the including file returns, built from its own copies of the loops.
OptimLoopSet loop_set() { return {loops_of<float>(), loops_of<double>()}; }

}  // namespace
}  // namespace deepcore::cpu::optim_detail
