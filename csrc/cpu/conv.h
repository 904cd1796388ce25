// 2-D convolution (NCHW, cross-correlation like PyTorch): forward, and the
// gradients with respect to the input, the weight and the bias.
#pragma once
#include <array>
#include <optional>
#include <utility>

#include "common/conv_geometry.h"
#include "common/ndarray.h"

namespace deepcore::cpu {

// Padding may differ between the two sides of a dimension (PyTorch's
// padding='same' with an even kernel pads one more at the end).
using deepcore::Conv2dParams;  // common/conv_geometry.h

// x (N, C, H, W), weight (O, C / groups, kh, kw), bias (O,) -> (N, O, OH, OW).
NDArray conv2d_forward(const NDArray& x, const NDArray& weight, const std::optional<NDArray>& bias,
                       const Conv2dParams& p);

// grad_out (N, O, OH, OW) -> grad of x, whose shape is `input_shape`
// (needed because with stride > 1 several input sizes give the same output).
NDArray conv2d_backward_input(const NDArray& grad_out, const NDArray& weight, const Shape& input_shape,
                              const Conv2dParams& p);

// grad_out and x -> (grad of the weight, grad of the bias when with_bias).
// Summed over the batch in a fixed order: the result does not depend on the
// thread count.
std::pair<NDArray, std::optional<NDArray>> conv2d_backward_weight(const NDArray& grad_out, const NDArray& x,
                                                                  const Shape& weight_shape, bool with_bias,
                                                                  const Conv2dParams& p);

}  // namespace deepcore::cpu
