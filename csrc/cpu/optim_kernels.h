// What optim.cpp needs to run the optimizer element loops: their arguments
// and one table of loops per instruction set. Each table is defined in its own
// file, compiled with that ISA's flags: optim_portable.cpp (baseline),
// optim_avx2.cpp, optim_avx512.cpp; optim.cpp picks one with cpu_isa(). Each
// loop updates n contiguous elements from the given pointers, in the dtype T.
#pragma once
#include <cstdint>

namespace deepcore::cpu::optim_detail {

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

template <class T>
struct OptimLoops {
  void (*sgd)(T* p, const T* g, T* buf, int64_t n, const SgdArgs& a);
  void (*rmsprop)(T* p, const T* g, T* square_avg, T* buf, T* grad_avg, int64_t n, const RmspropArgs& a);
  void (*adagrad)(T* p, const T* g, T* sum, int64_t n, const AdagradArgs& a);
  void (*adadelta)(T* p, const T* g, T* square_avg, T* acc_delta, int64_t n, const AdadeltaArgs& a);
  void (*adam)(T* p, const T* g, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n, const AdamArgs& a);
};

struct OptimLoopSet {
  OptimLoops<float> f32;
  OptimLoops<double> f64;
};

OptimLoopSet portable_loops();
#ifdef DEEPCORE_X86
OptimLoopSet avx2_loops();    // call only when cpu_isa() >= AVX2
OptimLoopSet avx512_loops();  // call only when cpu_isa() == AVX512
#endif

}  // namespace deepcore::cpu::optim_detail
