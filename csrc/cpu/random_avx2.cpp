// Philox 4x32-10 for eight counters at once (AVX2). Compiled with -mavx2; run only when
// cpu_isa() >= AVX2.
#include <immintrin.h>

#include "cpu/random_simd.h"

namespace deepcore::cpu::detail {
namespace {

struct Avx2Ops {
  using V = __m256i;
  static constexpr int W = 8;

  static V set1(uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static V iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static V load(const uint32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V xor_(V a, V b) { return _mm256_xor_si256(a, b); }

  // mul_epu32 multiplies only the even lanes, so the odd ones are shifted down first.
  static void mul_hi_lo(V a, V m, V& hi, V& lo) {
    const V even = _mm256_mul_epu32(a, m);
    const V odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  }

  // Lane l of word vector w is word w of block l: transpose so each block's four words sit together.
  static void store_blocks(V c0, V c1, V c2, V c3, uint32_t* out) {
    const V t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const V t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const V u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0 1 | 4 5
    const V u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2 3 | 6 7
    V* dst = reinterpret_cast<V*>(out);
    _mm256_storeu_si256(dst + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(dst + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(dst + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(dst + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
  }
};

}  // namespace

void philox4x32_fill_avx2(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
  philox4x32_fill_simd<Avx2Ops>(first, seed, blocks, out);
}

}  // namespace deepcore::cpu::detail
