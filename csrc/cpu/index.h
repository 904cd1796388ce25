// Gathering along one dimension (index_select) and its adjoint, the scatter-add
// index_add_, plus the data loader's gather straight out of uint8 images.
#pragma once
#include <cstdint>

#include "common/ndarray.h"

namespace deepcore::cpu {

// out = a gathered along `dim` at `indices` (int64, 0-d or 1-d, each in
// [0, a.shape[dim])): out.shape = a.shape with shape[dim] = len(indices).
NDArray index_select(const NDArray& a, int64_t dim, const NDArray& indices);

// dst[..., indices[j], ...] += src[..., j, ...] along `dim`; repeated indices
// accumulate. The backward of index_select.
void index_add_(const NDArray& dst, int64_t dim, const NDArray& indices, const NDArray& src);

// Rows of a C-contiguous uint8 array (shape src_shape, rows along dim 0)
// gathered at `indices` and converted: out = float(src) * scale + shift in
// `out_dtype`. One pass from the bytes a dataset keeps in memory to a
// normalized batch (ToTensor + Normalize fused).
NDArray index_select_u8(const uint8_t* src, const Shape& src_shape, const NDArray& indices, DType out_dtype,
                        double scale, double shift);

}  // namespace deepcore::cpu
