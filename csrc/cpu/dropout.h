// Dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p).
// The keep mask comes from the global Philox stream (element i uses word i % 4
// of block i / 4), so it is reproducible with manual_seed for any thread count.
#pragma once
#include <utility>

#include "common/ndarray.h"

namespace deepcore::cpu {

// (out, mask): mask is bool, true where the element was kept. x may be strided.
std::pair<NDArray, NDArray> dropout(const NDArray& x, double p);
// grad * mask / (1 - p): the backward reuses the forward's mask.
NDArray dropout_backward(const NDArray& grad, const NDArray& mask, double p);

}  // namespace deepcore::cpu
