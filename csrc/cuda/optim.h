// Fused optimizer updates on CUDA arrays: the CUDA twin of csrc/cpu/optim.h (same names,
// arguments, formulas and checks). One call updates every parameter of a param group, and its
// state tensors, in place: one launch per parameter.
//
// Parameters, gradients and states are contiguous CUDA float32/float64 arrays on one device;
// `steps` are the 0-d float32/float64 counters, which live on the CPU (as PyTorch keeps 'step'):
// they are incremented on the host, and the bias corrections computed from them there.
#pragma once
#include <vector>

#include "common/ndarray.h"

namespace deepcore::cuda {

using NDArrays = std::vector<NDArray>;

void sgd_step(const NDArrays& params, const NDArrays& grads, const NDArrays& momentum_buffers,
              const std::vector<bool>& buffer_is_new, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize);
void rmsprop_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                  const NDArrays& momentum_buffers, const NDArrays& grad_avgs, const NDArrays& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize);
void adagrad_step(const NDArrays& params, const NDArrays& grads, const NDArrays& sums, const NDArrays& steps,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize);
void adadelta_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                   const NDArrays& acc_deltas, const NDArrays& steps, double lr, double rho, double eps,
                   double weight_decay, bool maximize);
void adam_step(const NDArrays& params, const NDArrays& grads, const NDArrays& exp_avgs, const NDArrays& exp_avg_sqs,
               const NDArrays& max_exp_avg_sqs, const NDArrays& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay);

}  // namespace deepcore::cuda
