// Fused optimizer updates: one call updates every parameter of a param group
// (and its state tensors) in place, following PyTorch's update formulas.
//
// All lists are indexed alike: params[i], grads[i] and every state list's
// entry i belong to one parameter. Tensors must be contiguous CPU float32 or
// float64 with the parameter's shape and dtype; `steps` are 0-d float32 or
// float64 counters the kernel increments. Every write bumps the storage version.
#pragma once
#include <vector>

#include "common/ndarray.h"

namespace deepcore::cpu {

using NDArrays = std::vector<NDArray>;

// momentum_buffers is empty when momentum == 0; buffer_is_new[i] says the
// buffer is uninitialised and takes the (decayed) gradient as is (PyTorch's
// first step).
void sgd_step(const NDArrays& params, const NDArrays& grads, const NDArrays& momentum_buffers,
              const std::vector<bool>& buffer_is_new, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize);

// momentum_buffers is empty unless momentum > 0; grad_avgs is empty unless centered.
void rmsprop_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                  const NDArrays& momentum_buffers, const NDArrays& grad_avgs, const NDArrays& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize);

void adagrad_step(const NDArrays& params, const NDArrays& grads, const NDArrays& sums, const NDArrays& steps,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize);

void adadelta_step(const NDArrays& params, const NDArrays& grads, const NDArrays& square_avgs,
                   const NDArrays& acc_deltas, const NDArrays& steps, double lr, double rho, double eps,
                   double weight_decay, bool maximize);

// Adam, or AdamW when decoupled_weight_decay. max_exp_avg_sqs is empty unless amsgrad.
void adam_step(const NDArrays& params, const NDArrays& grads, const NDArrays& exp_avgs, const NDArrays& exp_avg_sqs,
               const NDArrays& max_exp_avg_sqs, const NDArrays& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay);

}  // namespace deepcore::cpu
