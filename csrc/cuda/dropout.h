// Dropout on CUDA arrays: the CUDA twin of csrc/cpu/dropout.h. The keep mask comes from the same
// Philox 4x32-10 stream as the CPU's (element i uses word i % 4 of block i / 4 counted from the
// first reserved counter), so one seed gives the same mask on both devices.
#pragma once
#include <cstdint>
#include <utility>

#include "common/ndarray.h"

namespace deepcore::cuda {

// (out, mask) with the Philox blocks first, first + 1, ... of key `seed`; mask is bool, true where
// the element was kept. The counters are reserved by the caller (python/deepcore/backend/cuda.py's
// dropout, from the global generator that deepcore.manual_seed seeds): (numel + 3) / 4 of them.
std::pair<NDArray, NDArray> dropout_at(const NDArray& x, double p, uint64_t seed, uint64_t first);
// grad * mask / (1 - p): the backward reuses the forward's mask.
NDArray dropout_backward(const NDArray& grad, const NDArray& mask, double p);

}  // namespace deepcore::cuda
