// Activations whose backward needs more than a generic elementwise op, and softmax, on CUDA arrays:
// the CUDA twin of csrc/cpu/activation.h (same names, arguments, results and errors).
//
// The pointwise kinds (`activation` / `activation_backward`: elu ... threshold) sit in the same
// file here, where the CPU gives them their own (csrc/cpu/activation_pointwise.cpp).
#pragma once
#include <string>

#include "common/ndarray.h"

namespace deepcore::cuda {

NDArray leaky_relu(const NDArray& x, double slope);
NDArray leaky_relu_backward(const NDArray& grad, const NDArray& x, double slope);  // slope 0 = relu
NDArray tanh_backward(const NDArray& grad, const NDArray& y);     // y = tanh(x)
NDArray sigmoid_backward(const NDArray& grad, const NDArray& y);  // y = sigmoid(x)

NDArray softmax(const NDArray& x, int64_t axis);
NDArray log_softmax(const NDArray& x, int64_t axis);
NDArray softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);      // y = softmax(x)
NDArray log_softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis);  // y = log_softmax(x)

// kind, a and b as in csrc/cpu/activation.h; the backward takes the saved input x.
NDArray activation(const NDArray& x, const std::string& kind, double a, double b);
NDArray activation_backward(const NDArray& grad, const NDArray& x, const std::string& kind, double a, double b);

}  // namespace deepcore::cuda
