// Reductions over any set of axes, and arg-reductions over one axis, on CUDA arrays: the CUDA
// twin of csrc/cpu/reduce.h, with the same names, arguments, dtypes, results and errors.
//
// Inputs may be any strided views; after merging the dimensions that can be merged, the kept and
// the reduced dimensions may each number at most 8 (ValueError beyond that).
#pragma once
#include <vector>

#include "common/ndarray.h"
#include "common/ops.h"

namespace deepcore::cuda {

// axes empty = all axes. Sum of int64/bool gives int64; mean needs floats. float32 sums and
// means accumulate in float64, as on the CPU.
NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int64_t>& axes, bool keepdim);
// Index (int64) of the first max/min along `axis`; NaN counts as the extreme.
NDArray arg_reduce(bool is_max, const NDArray& a, int64_t axis, bool keepdim);
// True when any element is NaN or +-inf (always false for integer dtypes).
bool has_nonfinite(const NDArray& a);

}  // namespace deepcore::cuda
