// Philox 4x32-10 for sixteen counters at once (AVX-512). Compiled with AVX-512 flags; run only
// when cpu_isa() == AVX512.
#include <immintrin.h>

#include "cpu/random_simd.h"

namespace deepcore::cpu::detail {
namespace {

struct Avx512Ops {
  using V = __m512i;
  static constexpr int W = 16;

  static V set1(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  static V iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static V load(const uint32_t* p) { return _mm512_load_si512(p); }
  static V add(V a, V b) { return _mm512_add_epi32(a, b); }
  static V xor_(V a, V b) { return _mm512_xor_si512(a, b); }

  // mul_epu32 multiplies only the even lanes, so the odd ones are shifted down first.
  static void mul_hi_lo(V a, V m, V& hi, V& lo) {
    const V even = _mm512_mul_epu32(a, m);
    const V odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    constexpr __mmask16 kOddLanes = 0xAAAA;
    lo = _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32));
    hi = _mm512_mask_blend_epi32(kOddLanes, _mm512_srli_epi64(even, 32), odd);
  }

  // Lane l of word vector w is word w of block l. Within each 128-bit lane q the unpacks gather
  // blocks 4q + r into u_r; the 128-bit shuffles then put the blocks in order.
  static void store_blocks(V c0, V c1, V c2, V c3, uint32_t* out) {
    const V t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    const V t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    const V u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);  // blocks 0 4 8 12, 1 5 9 ..
    const V u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);  // 2 6 10 14, 3 7 11 15
    const V v0 = _mm512_shuffle_i32x4(u0, u1, 0x44), v1 = _mm512_shuffle_i32x4(u2, u3, 0x44);  // 0 4 1 5, 2 6 3 7
    const V v2 = _mm512_shuffle_i32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_i32x4(u2, u3, 0xEE);  // 8 12 9 13, ...
    _mm512_storeu_si512(out + 0, _mm512_shuffle_i32x4(v0, v1, 0x88));
    _mm512_storeu_si512(out + 16, _mm512_shuffle_i32x4(v0, v1, 0xDD));
    _mm512_storeu_si512(out + 32, _mm512_shuffle_i32x4(v2, v3, 0x88));
    _mm512_storeu_si512(out + 48, _mm512_shuffle_i32x4(v2, v3, 0xDD));
  }
};

}  // namespace

void philox4x32_fill_avx512(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
  philox4x32_fill_simd<Avx512Ops>(first, seed, blocks, out);
}

}  // namespace deepcore::cpu::detail
