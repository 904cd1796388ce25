// Random numbers from a counter-based generator (Philox 4x32-10): element i of
// a draw depends only on (seed, offset, i), so results are the same for any
// thread count, and a CUDA twin can produce the same stream.
#pragma once
#include <cstdint>
#include <utility>

#include "common/ndarray.h"

namespace deepcore::cpu {

void manual_seed(uint64_t seed);
std::pair<uint64_t, uint64_t> get_rng_state();  // (seed, offset)
void set_rng_state(uint64_t seed, uint64_t offset);

NDArray rand(const Shape& shape, DType dtype);   // uniform [0, 1)
NDArray randn(const Shape& shape, DType dtype);  // standard normal
NDArray randint(int64_t low, int64_t high, const Shape& shape);  // int64 in [low, high)
NDArray randperm(int64_t n);                     // int64 permutation of 0..n-1

}  // namespace deepcore::cpu
