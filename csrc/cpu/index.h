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

// torch.gather: out[i][j][k] = a[index[i][j][k]][j][k] for dim 0 (likewise for the other dims).
// index is int64 with a's number of dims and index.shape[d] <= a.shape[d] for d != dim; out has
// index's shape. Any strides; the result is contiguous.
NDArray gather(const NDArray& a, int64_t dim, const NDArray& index);

// torch.scatter_ / scatter_add_, in place: dst[index[i][j][k]][j][k] = src[i][j][k] for dim 0
// (+= with accumulate). index.shape[d] <= src.shape[d] for every d and <= dst.shape[d] for
// d != dim; src may broadcast (stride 0: the value form). Repeated indices: the last write wins
// (scatter) or they accumulate (scatter_add), as on PyTorch's CPU.
void scatter_(const NDArray& dst, int64_t dim, const NDArray& index, const NDArray& src, bool accumulate);

// Rows of a C-contiguous uint8 array (shape src_shape, rows along dim 0)
// gathered at `indices` and converted: out = float(src) * scale + shift in
// `out_dtype`. One pass from the bytes a dataset keeps in memory to a
// normalized batch (ToTensor + Normalize fused).
NDArray index_select_u8(const uint8_t* src, const Shape& src_shape, const NDArray& indices, DType out_dtype,
                        double scale, double shift);

}  // namespace deepcore::cpu
