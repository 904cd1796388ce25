// Loss functions, forward and backward side by side, on CUDA arrays: the CUDA twin of
// csrc/cpu/loss.h (same names, arguments, results, errors and accumulation in float64).
//
// Each row's or element's loss is computed on the device; the batch sums are taken per row (or
// per block of elements) in float64 on the device and added in order on the host, so the result
// does not depend on the launch configuration. The class-index targets are checked on the host
// (one copy of the int64 targets), so a bad label names itself as on the CPU.
#pragma once
#include <optional>
#include <string>
#include <tuple>

#include "common/ndarray.h"

namespace deepcore::cuda {

std::tuple<NDArray, double> cross_entropy(const NDArray& logits, const NDArray& target,
                                          const std::optional<NDArray>& weight, int64_t ignore_index,
                                          double label_smoothing, const std::string& reduction);
NDArray cross_entropy_backward(const NDArray& grad, const NDArray& logits, const NDArray& target,
                               const std::optional<NDArray>& weight, int64_t ignore_index,
                               double label_smoothing, const std::string& reduction, double total_weight);

std::tuple<NDArray, double> nll_loss(const NDArray& log_probs, const NDArray& target,
                                     const std::optional<NDArray>& weight, int64_t ignore_index,
                                     const std::string& reduction);
NDArray nll_loss_backward(const NDArray& grad, const NDArray& log_probs, const NDArray& target,
                          const std::optional<NDArray>& weight, int64_t ignore_index, const std::string& reduction,
                          double total_weight);

// kind: "mse", "l1", "bce" or "bce_with_logits" (csrc/cpu/loss.h has the formulas).
NDArray pointwise_loss(const std::string& kind, const NDArray& x, const NDArray& y,
                       const std::optional<NDArray>& weight, const std::optional<NDArray>& pos_weight,
                       const std::string& reduction);
NDArray pointwise_loss_backward(const std::string& kind, const NDArray& grad, const NDArray& x, const NDArray& y,
                                const std::optional<NDArray>& weight, const std::optional<NDArray>& pos_weight,
                                const std::string& reduction);

}  // namespace deepcore::cuda
