// Random numbers from a counter-based generator (Philox 4x32-10): element i of
// a draw depends only on (seed, offset, i), so results are the same for any
// thread count, and a CUDA twin can produce the same stream.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <utility>

#include "common/ndarray.h"

namespace deepcore::cpu {

// One Philox stream: its key (the seed) and its next unused counter (the offset), behind a lock so
// that threads drawing at once each reserve counters of their own. The global stream is one of
// these; each deepcore.Generator owns another, so its draws never move the global offset.
class PhiloxGenerator {
 public:
  explicit PhiloxGenerator(uint64_t seed) : seed_(seed) {}
  PhiloxGenerator(const PhiloxGenerator&) = delete;
  PhiloxGenerator& operator=(const PhiloxGenerator&) = delete;

  void manual_seed(uint64_t seed) { set_state(seed, 0); }
  std::pair<uint64_t, uint64_t> state() const {  // (seed, offset)
    std::lock_guard<std::mutex> lock(mutex_);
    return {seed_, offset_};
  }
  void set_state(uint64_t seed, uint64_t offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `blocks` counters; returns (seed, first counter): block j of the draw is
  // philox4x32(first + j, seed), on any thread.
  std::pair<uint64_t, uint64_t> reserve(uint64_t blocks) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t first = offset_;
    offset_ += blocks;
    return {seed_, first};
  }

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

PhiloxGenerator& global_generator();  // what manual_seed seeds; the draws' stream when given nullptr

void manual_seed(uint64_t seed);
std::pair<uint64_t, uint64_t> get_rng_state();  // (seed, offset)
void set_rng_state(uint64_t seed, uint64_t offset);

// For kernels in other files that draw from the same stream (dropout): reserve
// `blocks` counters, then block j is philox4x32(first + j, seed) on any thread.
std::pair<uint64_t, uint64_t> reserve_random_blocks(uint64_t blocks);  // (seed, first counter)

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;  // round multipliers
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;  // key increments (Weyl)

inline std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kPhiloxM0) * c0, p1 = uint64_t(kPhiloxM1) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return {c0, c1, c2, c3};
}

// out[4 * j + l] = philox4x32(first + j, seed)[l] for j < blocks: the words of a
// whole run of counters, 8 or 16 counters per instruction on AVX2 / AVX-512.
void philox4x32_fill(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out);

namespace detail {
#ifdef DEEPCORE_X86
void philox4x32_fill_avx2(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out);    // cpu_isa() >= AVX2
void philox4x32_fill_avx512(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out);  // cpu_isa() == AVX512
#endif
}  // namespace detail

// Every draw below takes its counters from `gen`, or from the global stream when gen is nullptr.
NDArray rand(const Shape& shape, DType dtype, PhiloxGenerator* gen = nullptr);   // uniform [0, 1)
NDArray randn(const Shape& shape, DType dtype, PhiloxGenerator* gen = nullptr);  // standard normal
NDArray randint(int64_t low, int64_t high, const Shape& shape,
                PhiloxGenerator* gen = nullptr);           // int64 in [low, high)
NDArray randperm(int64_t n, PhiloxGenerator* gen = nullptr);  // int64 permutation of 0..n-1

// In-place fills of a float array (any strides), the Tensor.uniform_ / normal_ / exponential_
// family: the same numbers rand / randn would draw, mapped. uniform_(0, 1) is rand's stream.
void uniform_(const NDArray& a, double low, double high, PhiloxGenerator* gen = nullptr);  // [low, high)
void normal_(const NDArray& a, double mean, double std, PhiloxGenerator* gen = nullptr);
void exponential_(const NDArray& a, double lambd, PhiloxGenerator* gen = nullptr);  // -log(1 - u) / lambd

// torch.multinomial on a contiguous float (rows, categories) array of non-negative weights (any
// scale): (rows, num_samples) int64 category indices. With replacement, each draw inverts the
// row's running sum; without, the num_samples smallest of E_i / w_i (E_i exponential) in order,
// which is sequential sampling without replacement.
NDArray multinomial(const NDArray& probs, int64_t num_samples, bool replacement,
                    PhiloxGenerator* gen = nullptr);

}  // namespace deepcore::cpu
