// Loss functions, forward and backward side by side.
//
// reduction is "none", "mean" or "sum" (PyTorch's names). Sums over a batch
// are taken in double over fixed blocks of rows, then the block sums in order:
// the result does not depend on the thread count.
#pragma once
#include <optional>
#include <string>
#include <tuple>

#include "common/ndarray.h"

namespace deepcore::cpu {

// Fused log-softmax + negative log-likelihood over the class dimension 1 of
// logits (N, C, d1, ...) with class indices target (N, d1, ...) int64.
// weight: optional per-class weights (C,). Rows whose target is ignore_index
// contribute nothing. label_smoothing mixes in eps / C of every class.
// Returns (loss, total_weight): total_weight = sum of weight[target] over kept
// rows (the mean's divisor).
std::tuple<NDArray, double> cross_entropy(const NDArray& logits, const NDArray& target,
                                                   const std::optional<NDArray>& weight, int64_t ignore_index,
                                                   double label_smoothing, const std::string& reduction);
// grad: a scalar for mean/sum, shape (N, d1, ...) for none. The softmax is rebuilt from the logits
// shifted by their row max, as the forward computes it.
NDArray cross_entropy_backward(const NDArray& grad, const NDArray& logits, const NDArray& target,
                               const std::optional<NDArray>& weight, int64_t ignore_index,
                               double label_smoothing, const std::string& reduction, double total_weight);

// Negative log-likelihood of log-probabilities (N, C, d1, ...); same target rules.
// Returns (loss, total_weight).
std::tuple<NDArray, double> nll_loss(const NDArray& log_probs, const NDArray& target,
                                     const std::optional<NDArray>& weight, int64_t ignore_index,
                                     const std::string& reduction);
NDArray nll_loss_backward(const NDArray& grad, const NDArray& log_probs, const NDArray& target,
                          const std::optional<NDArray>& weight, int64_t ignore_index, const std::string& reduction,
                          double total_weight);

// Elementwise losses between input x and target y of the same shape:
//   "mse"             (x - y)^2
//   "l1"              |x - y|
//   "bce"             -(y log x + (1 - y) log(1 - x)), logs clamped at -100; x must lie in [0, 1]
//   "bce_with_logits" the same on sigmoid(x), computed stably; pos_weight scales the positive term
// weight (optional, x's shape) multiplies each element's loss.
NDArray pointwise_loss(const std::string& kind, const NDArray& x, const NDArray& y,
                       const std::optional<NDArray>& weight, const std::optional<NDArray>& pos_weight,
                       const std::string& reduction);
// The gradient with respect to x.
NDArray pointwise_loss_backward(const std::string& kind, const NDArray& grad, const NDArray& x, const NDArray& y,
                                const std::optional<NDArray>& weight, const std::optional<NDArray>& pos_weight,
                                const std::string& reduction);

}  // namespace deepcore::cpu
