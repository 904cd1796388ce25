// conv2d (NCHW, groups, dilation, asymmetric padding) forward and both backward passes on CUDA
// arrays: the CUDA twin of csrc/cpu/conv.h (same names, arguments, results and errors).
#pragma once
#include <array>
#include <optional>
#include <utility>

#include "common/conv_geometry.h"
#include "common/ndarray.h"

namespace deepcore::cuda {

using deepcore::Conv2dParams;  // common/conv_geometry.h

// x (N, C, H, W) * weight (O, C / groups, kh, kw) [+ bias (O,)] -> (N, O, OH, OW).
NDArray conv2d_forward(const NDArray& x, const NDArray& weight, const std::optional<NDArray>& bias,
                       const Conv2dParams& p);
// grad_out (N, O, OH, OW) -> the gradient of x, whose shape is `input_shape`.
NDArray conv2d_backward_input(const NDArray& grad_out, const NDArray& weight, const Shape& input_shape,
                              const Conv2dParams& p);
// grad_out and x -> (gradient of the weight, gradient of the bias when with_bias).
std::pair<NDArray, std::optional<NDArray>> conv2d_backward_weight(const NDArray& grad_out, const NDArray& x,
                                                                  const Shape& weight_shape, bool with_bias,
                                                                  const Conv2dParams& p);

}  // namespace deepcore::cuda
