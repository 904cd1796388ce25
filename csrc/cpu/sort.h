// Sorting along one dimension: sort (values and the permutation) and topk (the k largest or
// smallest). Their backward passes are scatters of the gradient by the returned indices, which
// the op layer does with index.cpp's scatter_.
#pragma once
#include <cstdint>
#include <utility>

#include "common/ndarray.h"

namespace deepcore::cpu {

// (values, int64 indices) of `a` sorted along `dim`. NaN counts as larger than every number
// (last ascending, first descending), as in PyTorch; the sort is stable, so equal elements keep
// their order (PyTorch's stable=True; its default order of ties is unspecified).
std::pair<NDArray, NDArray> sort(const NDArray& a, int64_t dim, bool descending);

// The k largest (or smallest) elements along `dim` and their indices, in sorted order when
// `sorted` (else in index order). 0 <= k <= a.shape[dim].
std::pair<NDArray, NDArray> topk(const NDArray& a, int64_t k, int64_t dim, bool largest, bool sorted);

}  // namespace deepcore::cpu
