// The element loops of the fused optimizer updates, one copy per instruction
// set: optim_loops.inc is compiled in optim.cpp (portable), optim_avx2.cpp and
// optim_avx512.cpp, each inside its own namespace so the copies never mix at
// link time. optim.cpp picks one with cpu_isa(). Each loop updates n
// contiguous elements starting at the given pointers, in the dtype T.
#pragma once
#include <cstdint>

namespace deepcore::cpu {

struct SgdArgs {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, use_momentum, buffer_is_new;
};
struct RmspropArgs {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, use_momentum, maximize;
};
struct AdagradArgs {
  double clr, eps, weight_decay;  // clr: this step's decayed learning rate
  bool maximize;
};
struct AdadeltaArgs {
  double lr, rho, eps, weight_decay;
  bool maximize;
};
struct AdamArgs {
  double step_size, bias_correction2_sqrt, beta1, beta2, eps, weight_decay, lr;
  bool amsgrad, maximize, decoupled_weight_decay;
};

#define DEEPCORE_DECLARE_OPTIM_LOOPS(NS)                                                              \
  namespace NS {                                                                                      \
  template <class T>                                                                                  \
  void sgd(T* p, const T* g, T* buf, int64_t n, const SgdArgs& a);                                    \
  template <class T>                                                                                  \
  void rmsprop(T* p, const T* g, T* square_avg, T* buf, T* grad_avg, int64_t n, const RmspropArgs& a); \
  template <class T>                                                                                  \
  void adagrad(T* p, const T* g, T* sum, int64_t n, const AdagradArgs& a);                            \
  template <class T>                                                                                  \
  void adadelta(T* p, const T* g, T* square_avg, T* acc_delta, int64_t n, const AdadeltaArgs& a);     \
  template <class T>                                                                                  \
  void adam(T* p, const T* g, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n, const AdamArgs& a); \
  }

DEEPCORE_DECLARE_OPTIM_LOOPS(optim_portable)
DEEPCORE_DECLARE_OPTIM_LOOPS(optim_avx2)
DEEPCORE_DECLARE_OPTIM_LOOPS(optim_avx512)

}  // namespace deepcore::cpu
