// NumPy's matmul on CUDA arrays: the CUDA twin of csrc/cpu/matmul.h (same rules and errors).
#pragma once

#include "common/ndarray.h"

namespace deepcore::cuda {

// a @ b with NumPy matmul rules for ndim >= 2 (batch dimensions broadcast). Operands may be any
// strided views (a transposed view is read through its strides, never copied); float32 or
// float64, same dtype. float32 accumulates in float32 (no tensor cores), as the CPU GEMM does.
NDArray matmul(const NDArray& a, const NDArray& b);

}  // namespace deepcore::cuda
