// Elementwise unary and binary operations on CUDA arrays.
//
// Inputs may be any strided views (up to 8 dimensions after merging the ones
// that can be merged); binary operands broadcast with NumPy rules. `out`, when
// given, must already have the result's shape and dtype and live on the same
// device; it may be strided and may alias an input (in-place ops pass
// out == a). Without `out` a new contiguous array is returned.
//
// dtypes (the same table as the CPU engine; TypeError otherwise): float32 and
// float64 support every op. int64 supports Neg, Abs, Relu, Sign, Square and
// every binary op except Div and Pow. Bool supports Eq and Ne. Binary operands
// must share a dtype (the Python layer promotes). Comparisons return Bool
// (uint8 0/1); other ops keep the dtype.
#pragma once
#include "common/ndarray.h"
#include "common/ops.h"

namespace deepcore::cuda {

NDArray unary(UnaryOp op, const NDArray& a, const NDArray* out = nullptr);
NDArray binary(BinaryOp op, const NDArray& a, const NDArray& b, const NDArray* out = nullptr);
// reverse == false: a OP scalar; reverse == true: scalar OP a (e.g. rsub: s - a).
// The scalar is converted to a's dtype first (as on the CPU; bool: s != 0).
NDArray binary_scalar(BinaryOp op, const NDArray& a, double scalar, bool reverse, const NDArray* out = nullptr);

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);

}  // namespace deepcore::cuda
