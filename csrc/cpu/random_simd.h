// The vectorized Philox 4x32-10 loop, shared by random_avx2.cpp and random_avx512.cpp. Each
// supplies an Ops struct for its width (W counters per vector): V, set1, iota (0..W-1), load
// (W words from aligned memory), add, xor_, mul_hi_lo (the 64-bit products of all lanes split into
// high and low words), and store_blocks, which transposes the four word vectors so that each
// counter's four words sit together, as the scalar philox4x32 writes them.
#pragma once
#include <cstdint>

#include "cpu/random.h"

namespace deepcore::cpu::detail {

template <class Ops>
void philox4x32_fill_simd(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
  using V = typename Ops::V;
  constexpr int W = Ops::W;
  const V m0 = Ops::set1(kPhiloxM0), m1 = Ops::set1(kPhiloxM1);
  V key0[10], key1[10];
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round, k0 += kPhiloxW0, k1 += kPhiloxW1) {
    key0[round] = Ops::set1(k0);
    key1[round] = Ops::set1(k1);
  }
  // Counters first .. first + blocks - 1 as (low, high) words; the high word is the same for all of
  // them unless the low word wraps on the way.
  const uint32_t first_low = static_cast<uint32_t>(first);
  const bool low_words_wrap = uint64_t(first_low) + static_cast<uint64_t>(blocks) > (uint64_t(1) << 32);
  const V high_word = Ops::set1(static_cast<uint32_t>(first >> 32));
  int64_t j = 0;
  for (; j + W <= blocks; j += W) {
    V c0, c1;
    if (low_words_wrap) {  // once in 2^32 counters: the high word steps inside this group
      alignas(64) uint32_t low[W], high[W];
      for (int l = 0; l < W; ++l) {
        const uint64_t counter = first + static_cast<uint64_t>(j + l);
        low[l] = static_cast<uint32_t>(counter);
        high[l] = static_cast<uint32_t>(counter >> 32);
      }
      c0 = Ops::load(low);
      c1 = Ops::load(high);
    } else {
      c0 = Ops::add(Ops::set1(first_low + static_cast<uint32_t>(j)), Ops::iota());
      c1 = high_word;
    }
    V c2 = Ops::set1(0), c3 = c2;
    for (int round = 0; round < 10; ++round) {
      V hi0, lo0, hi2, lo2;
      Ops::mul_hi_lo(c0, m0, hi0, lo0);
      Ops::mul_hi_lo(c2, m1, hi2, lo2);
      c0 = Ops::xor_(Ops::xor_(hi2, c1), key0[round]);
      c2 = Ops::xor_(Ops::xor_(hi0, c3), key1[round]);
      c1 = lo2;
      c3 = lo0;
    }
    Ops::store_blocks(c0, c1, c2, c3, out + 4 * j);
  }
  for (; j < blocks; ++j) {
    const std::array<uint32_t, 4> r = philox4x32(first + static_cast<uint64_t>(j), seed);
    for (int l = 0; l < 4; ++l) out[4 * j + l] = r[l];
  }
}

}  // namespace deepcore::cpu::detail
