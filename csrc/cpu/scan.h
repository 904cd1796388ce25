// Scans along one dimension: cumsum (also reversed: its own backward), cumprod, and cumprod's
// exact backward (no division, so zeros in the input are handled).
#pragma once
#include <cstdint>

#include "common/ndarray.h"

namespace deepcore::cpu {

// out[k] = a[0] + ... + a[k] along dim (reverse: a[k] + ... + a[n-1]); float32/float64/int64, float32
// accumulated in double as on PyTorch's CPU. The result is contiguous.
NDArray cumsum(const NDArray& a, int64_t dim, bool reverse);

// out[k] = a[0] * ... * a[k] along dim.
NDArray cumprod(const NDArray& a, int64_t dim);

// The gradient of cumprod(x) for the output gradient g: dx[k] = P[k-1] * S[k], with P the exclusive
// prefix products of x and S[k] = g[k] + x[k+1] * S[k+1] (S[n-1] = g[n-1]), so a zero in x needs no
// special case. O(n) per line.
NDArray cumprod_backward(const NDArray& grad, const NDArray& input, int64_t dim);

}  // namespace deepcore::cpu
