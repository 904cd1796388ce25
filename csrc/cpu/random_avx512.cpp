// Philox 4x32-10 for sixteen counters at once (AVX-512): the same words as the
// scalar philox4x32, written in the same order. Compiled with AVX-512 flags;
// run only when cpu_isa() == AVX512.
#include <immintrin.h>

#include "cpu/random.h"

namespace deepcore::cpu::detail {
namespace {

// The 64-bit products a * m of all sixteen lanes, split into high and low words.
// mul_epu32 multiplies only the even lanes, so the odd ones are shifted down first.
inline void mul_hi_lo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  constexpr __mmask16 kOddLanes = 0xAAAA;
  lo = _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32));
  hi = _mm512_mask_blend_epi32(kOddLanes, _mm512_srli_epi64(even, 32), odd);
}

}  // namespace

void philox4x32_fill_avx512(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxM1));
  __m512i key0[10], key1[10];
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round, k0 += kPhiloxW0, k1 += kPhiloxW1) {
    key0[round] = _mm512_set1_epi32(static_cast<int>(k0));
    key1[round] = _mm512_set1_epi32(static_cast<int>(k1));
  }
  // Counters first .. first + blocks - 1 as (low, high) words; the high word is the same for all of
  // them unless the low word wraps on the way.
  const uint32_t first_low = static_cast<uint32_t>(first);
  const bool low_words_wrap = uint64_t(first_low) + static_cast<uint64_t>(blocks) > (uint64_t(1) << 32);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i high_word = _mm512_set1_epi32(static_cast<int>(first >> 32));
  int64_t j = 0;
  for (; j + 16 <= blocks; j += 16) {
    __m512i c0, c1;
    if (low_words_wrap) {  // once in 2^32 counters: the high word steps inside this group
      alignas(64) uint32_t low[16], high[16];
      for (int l = 0; l < 16; ++l) {
        const uint64_t counter = first + static_cast<uint64_t>(j + l);
        low[l] = static_cast<uint32_t>(counter);
        high[l] = static_cast<uint32_t>(counter >> 32);
      }
      c0 = _mm512_load_si512(low);
      c1 = _mm512_load_si512(high);
    } else {
      c0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(first_low + static_cast<uint32_t>(j))), lane);
      c1 = high_word;
    }
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi2, lo2;
      mul_hi_lo(c0, m0, hi0, lo0);
      mul_hi_lo(c2, m1, hi2, lo2);
      c0 = _mm512_xor_si512(_mm512_xor_si512(hi2, c1), key0[round]);
      c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), key1[round]);
      c1 = lo2;
      c3 = lo0;
    }
    // Lane l of word vector w is word w of block l. Within each 128-bit lane q the unpacks
    // gather blocks 4q + r into u_r; the 128-bit shuffles then put the blocks in order.
    const __m512i t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    const __m512i t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);  // blocks 0 4 8 12, 1 5 9 ..
    const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);  // 2 6 10 14, 3 7 11 15
    const __m512i v0 = _mm512_shuffle_i32x4(u0, u1, 0x44), v1 = _mm512_shuffle_i32x4(u2, u3, 0x44);  // 0 4 1 5, 2 6 3 7
    const __m512i v2 = _mm512_shuffle_i32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_i32x4(u2, u3, 0xEE);  // 8 12 9 13, ...
    uint32_t* dst = out + 4 * j;
    _mm512_storeu_si512(dst + 0, _mm512_shuffle_i32x4(v0, v1, 0x88));
    _mm512_storeu_si512(dst + 16, _mm512_shuffle_i32x4(v0, v1, 0xDD));
    _mm512_storeu_si512(dst + 32, _mm512_shuffle_i32x4(v2, v3, 0x88));
    _mm512_storeu_si512(dst + 48, _mm512_shuffle_i32x4(v2, v3, 0xDD));
  }
  for (; j < blocks; ++j) {
    const std::array<uint32_t, 4> r = philox4x32(first + static_cast<uint64_t>(j), seed);
    for (int l = 0; l < 4; ++l) out[4 * j + l] = r[l];
  }
}

}  // namespace deepcore::cpu::detail
