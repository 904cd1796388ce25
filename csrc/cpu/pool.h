// 2-D pooling and nearest-neighbour upsampling (NCHW), forward and backward.
#pragma once
#include <array>

#include "common/ndarray.h"
#include "common/pool_geometry.h"

namespace deepcore::cpu {

using deepcore::Pool2dParams;  // common/pool_geometry.h

// Max over each window (padding counts as -inf; NaN wins, as in PyTorch).
NDArray max_pool2d_forward(const NDArray& x, const Pool2dParams& p);
// The backward finds each window's maximum again in x (the first one on ties,
// the same rule as the forward) instead of keeping an index tensor alive.
NDArray max_pool2d_backward(const NDArray& grad_out, const NDArray& x, const Pool2dParams& p);

// Mean over each window, padding counted as zeros (PyTorch's count_include_pad=True).
NDArray avg_pool2d_forward(const NDArray& x, const Pool2dParams& p);
NDArray avg_pool2d_backward(const NDArray& grad_out, const Shape& input_shape, const Pool2dParams& p);

// Each pixel repeated scale[0] x scale[1] times; the backward sums each block.
NDArray upsample_nearest2d_forward(const NDArray& x, const std::array<int64_t, 2>& scale);
NDArray upsample_nearest2d_backward(const NDArray& grad_out, const std::array<int64_t, 2>& scale);

}  // namespace deepcore::cpu
