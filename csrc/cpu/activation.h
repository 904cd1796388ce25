// Activations whose backward needs more than a generic elementwise op, and softmax.
#pragma once
#include <string>

#include "common/ndarray.h"

namespace deepcore::cpu {

NDArray leaky_relu(const NDArray& x, double slope);
NDArray leaky_relu_backward(const NDArray& grad, const NDArray& x, double slope);  // slope 0 = relu
NDArray tanh_backward(const NDArray& grad, const NDArray& y);     // y = tanh(x)
NDArray sigmoid_backward(const NDArray& grad, const NDArray& y);  // y = sigmoid(x)

// The pointwise activations (activation_pointwise.cpp), one kernel pair parametrised by `kind` (PyTorch's
// formulas and edge rules; a and b as listed, unused ones ignored):
//   "elu"          x > 0 ? x : a (exp(x) - 1)                   a = alpha
//   "selu"         scale * elu(x, alpha), PyTorch's constants
//   "celu"         x > 0 ? x : a (exp(x / a) - 1)               a = alpha (nonzero)
//   "gelu"         x Phi(x), Phi the normal CDF (erfc, exact)
//   "gelu_tanh"    x / 2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   "silu"         x sigmoid(x)
//   "mish"         x tanh(softplus(x))
//   "softplus"     a x > b ? x : log(1 + exp(a x)) / a          a = beta, b = threshold
//   "hardtanh"     clamp(x, a, b)                               a = min_val, b = max_val (relu6: 0, 6)
//   "hardsigmoid"  clamp(x + 3, 0, 6) / 6
//   "hardswish"    x clamp(x + 3, 0, 6) / 6
//   "logsigmoid"   log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))
//   "softsign"     x / (1 + |x|)
//   "threshold"    x <= a ? b : x                               a = threshold, b = value
// x may be strided; float32 runs its exp/tanh/sigmoid/log through the vector
// math (vec_math.h), float64 the C library. The backward takes the saved input.
NDArray activation(const NDArray& x, const std::string& kind, double a, double b);
NDArray activation_backward(const NDArray& grad, const NDArray& x, const std::string& kind, double a, double b);

NDArray softmax(const NDArray& x, int64_t axis);
NDArray log_softmax(const NDArray& x, int64_t axis);
NDArray softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);      // y = softmax(x)
NDArray log_softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);  // y = log_softmax(x)

}  // namespace deepcore::cpu
