// Activations whose backward needs more than a generic elementwise op, and softmax.
#pragma once
#include "common/ndarray.h"

namespace deepcore::cpu {

NDArray leaky_relu(const NDArray& x, double slope);
NDArray leaky_relu_backward(const NDArray& grad, const NDArray& x, double slope);  // slope 0 = relu
NDArray tanh_backward(const NDArray& grad, const NDArray& y);     // y = tanh(x)
NDArray sigmoid_backward(const NDArray& grad, const NDArray& y);  // y = sigmoid(x)

NDArray softmax(const NDArray& x, int64_t axis);
NDArray log_softmax(const NDArray& x, int64_t axis);
NDArray softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);      // y = softmax(x)
NDArray log_softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);  // y = log_softmax(x)

}  // namespace deepcore::cpu
