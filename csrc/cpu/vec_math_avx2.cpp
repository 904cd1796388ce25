// vec::Kernels for AVX2 + FMA (8 float lanes). Compiled with -mavx2 -mfma; run
// only when cpu_isa() >= AVX2.
#include <immintrin.h>

#include "cpu/vec_math_loops.h"

namespace deepcore::cpu::vec {
namespace {

struct Avx2Ops {
  using V = __m256;
  using M = __m256;  // all-ones / all-zeros lanes
  static constexpr int W = 8;

  static V set1(float v) { return _mm256_set1_ps(v); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i tail_lanes(int64_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_tail(const float* p, int64_t count, float fill) {
    const __m256i lanes = tail_lanes(count);
    return _mm256_blendv_ps(set1(fill), _mm256_maskload_ps(p, lanes), _mm256_castsi256_ps(lanes));
  }
  static void store_tail(float* p, V v, int64_t count) { _mm256_maskstore_ps(p, tail_lanes(count), v); }

  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  // max/min return their second operand when either is NaN: x goes second.
  static V clamp(V x, V lo, V hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }
  static V round(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V sign_bit() { return _mm256_set1_ps(-0.0f); }
  static V abs(V v) { return _mm256_andnot_ps(sign_bit(), v); }
  static V neg_abs(V v) { return _mm256_or_ps(sign_bit(), v); }
  static V copysign(V mag, V s) { return _mm256_or_ps(_mm256_and_ps(sign_bit(), s), _mm256_andnot_ps(sign_bit(), mag)); }
  static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M not_ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_NGE_UQ); }
  static V select(M m, V t, V f) { return _mm256_blendv_ps(f, t, m); }

  // y * 2^n as y * 2^(n/2) * 2^(n - n/2): both factors are normal floats, the
  // first product is exact, the second rounds once (into subnormals or inf).
  static V scale_pow2(V y, V n) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const V s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const V s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return mul(mul(y, s1), s2);
  }
  // Offsetting the bits by those of sqrt(1/2) makes the exponent field roll over at sqrt(2).
  static void split_log(V x, V& m, V& k) {
    const __m256i off = _mm256_set1_epi32(0x3f3504f3);
    const __m256i ix = _mm256_sub_epi32(_mm256_castps_si256(x), off);
    k = _mm256_cvtepi32_ps(_mm256_srai_epi32(ix, 23));
    m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(ix, _mm256_set1_epi32(0x007fffff)), off));
  }
  static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
  }
  static float hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace deepcore::cpu::vec

#include "cpu/vec_math_simd.h"

namespace deepcore::cpu::vec::detail {
const Kernels<float> avx2_f32 = simd::table<Avx2Ops>("avx2");
const Kernels<double> avx2_f64 = loops::scalar_table<double>("avx2");
}  // namespace deepcore::cpu::vec::detail
