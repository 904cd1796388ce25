// NumPy's matmul on NDArrays, over the packed GEMM (gemm.h).
#pragma once

#include "common/ndarray.h"

namespace deepcore::cpu {

// a @ b with NumPy matmul rules for ndim >= 2 (batch dimensions broadcast).
// Operands may be any strided views; float32 or float64, same dtype.
NDArray matmul(const NDArray& a, const NDArray& b);

}  // namespace deepcore::cpu
