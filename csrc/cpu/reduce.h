// Reductions over any set of axes, and arg-reductions over one axis.
#pragma once
#include <vector>

#include "common/ndarray.h"
#include "common/ops.h"

namespace deepcore::cpu {

// axes empty = all axes. Sum of int64/bool gives int64; mean needs floats.
NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int64_t>& axes, bool keepdim);
// Index (int64) of the first max/min along `axis`; NaN counts as the extreme.
NDArray arg_reduce(bool is_max, const NDArray& a, int64_t axis, bool keepdim);
// True when any element is NaN or +-inf (always false for integer dtypes).
bool has_nonfinite(const NDArray& a);

}  // namespace deepcore::cpu
