// Philox 4x32-10 for eight counters at once (AVX2): the same words as the
// scalar philox4x32, written in the same order. Compiled with -mavx2; run only
// when cpu_isa() >= AVX2.
#include <immintrin.h>

#include "cpu/random.h"

namespace deepcore::cpu::detail {
namespace {

// The 64-bit products a * m of all eight lanes, split into high and low words.
// mul_epu32 multiplies only the even lanes, so the odd ones are shifted down first.
inline void mul_hi_lo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

}  // namespace

void philox4x32_fill_avx2(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  __m256i key0[10], key1[10];
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round, k0 += kPhiloxW0, k1 += kPhiloxW1) {
    key0[round] = _mm256_set1_epi32(static_cast<int>(k0));
    key1[round] = _mm256_set1_epi32(static_cast<int>(k1));
  }
  // Counters first .. first + blocks - 1 as (low, high) words; the high word is the same for all of
  // them unless the low word wraps on the way.
  const uint32_t first_low = static_cast<uint32_t>(first);
  const bool low_words_wrap = uint64_t(first_low) + static_cast<uint64_t>(blocks) > (uint64_t(1) << 32);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i high_word = _mm256_set1_epi32(static_cast<int>(first >> 32));
  int64_t j = 0;
  for (; j + 8 <= blocks; j += 8) {
    __m256i c0, c1;
    if (low_words_wrap) {  // once in 2^32 counters: the high word steps inside this group
      alignas(32) uint32_t low[8], high[8];
      for (int l = 0; l < 8; ++l) {
        const uint64_t counter = first + static_cast<uint64_t>(j + l);
        low[l] = static_cast<uint32_t>(counter);
        high[l] = static_cast<uint32_t>(counter >> 32);
      }
      c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(low));
      c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(high));
    } else {
      c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first_low + static_cast<uint32_t>(j))), lane);
      c1 = high_word;
    }
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi2, lo2;
      mul_hi_lo(c0, m0, hi0, lo0);
      mul_hi_lo(c2, m1, hi2, lo2);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi2, c1), key0[round]);
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), key1[round]);
      c1 = lo2;
      c3 = lo0;
    }
    // Lane l of word vector w is word w of block l: transpose so each block's four words sit together.
    const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0 1 | 4 5
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2 3 | 6 7
    __m256i* dst = reinterpret_cast<__m256i*>(out + 4 * j);
    _mm256_storeu_si256(dst + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(dst + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(dst + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(dst + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
  }
  for (; j < blocks; ++j) {
    const std::array<uint32_t, 4> r = philox4x32(first + static_cast<uint64_t>(j), seed);
    for (int l = 0; l < 4; ++l) out[4 * j + l] = r[l];
  }
}

}  // namespace deepcore::cpu::detail
