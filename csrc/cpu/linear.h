// The dense layer in one call: y = act(x @ w^T + b), w of shape (out, in).
#pragma once
#include <optional>

#include "common/ndarray.h"

namespace deepcore::cpu {

// x (M, K) and w (N, K) may be any strided 2-D views; b is (N,) or absent.
// relu=true clamps the result at 0 (its backward needs only y: y > 0 <=> x > 0).
NDArray linear_forward(const NDArray& x, const NDArray& w, const std::optional<NDArray>& b, bool relu);

}  // namespace deepcore::cpu
