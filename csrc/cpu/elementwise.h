// Elementwise kernels with NumPy broadcasting over strided operands.
#pragma once
#include <optional>

#include "common/ndarray.h"
#include "common/ops.h"

namespace deepcore::cpu {

// Each writes into `out` when given (it must already have the result's shape
// and dtype; in-place ops pass out == a), else into a new contiguous array.
NDArray unary(UnaryOp op, const NDArray& a, const std::optional<NDArray>& out);
NDArray binary(BinaryOp op, const NDArray& a, const NDArray& b, const std::optional<NDArray>& out);
// reverse: scalar OP a instead of a OP scalar.
NDArray binary_scalar(BinaryOp op, const NDArray& a, double scalar, bool reverse,
                      const std::optional<NDArray>& out);
NDArray where(const NDArray& cond, const NDArray& a, const NDArray& b);

}  // namespace deepcore::cpu
