// vec::Kernels for AVX-512 (16 float lanes, masked tails). Compiled with the
// AVX-512 flags; run only when cpu_isa() == AVX512. Only AVX512F instructions.
#include <immintrin.h>

#include "cpu/vec_math_loops.h"

namespace deepcore::cpu::vec {
namespace {

struct Avx512Ops {
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;

  static V set1(float v) { return _mm512_set1_ps(v); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static M tail_lanes(int64_t count) { return static_cast<M>((1u << count) - 1u); }  // count < 16
  static V load_tail(const float* p, int64_t count, float fill) {
    return _mm512_mask_loadu_ps(set1(fill), tail_lanes(count), p);
  }
  static void store_tail(float* p, V v, int64_t count) { _mm512_mask_storeu_ps(p, tail_lanes(count), v); }

  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  // max/min return their second operand when either is NaN: x goes second.
  static V clamp(V x, V lo, V hi) { return _mm512_min_ps(hi, _mm512_max_ps(lo, x)); }
  static V round(V v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static __m512i bits(V v) { return _mm512_castps_si512(v); }
  static __m512i sign_bit() { return _mm512_set1_epi32(static_cast<int>(0x80000000u)); }
  static V abs(V v) { return _mm512_castsi512_ps(_mm512_andnot_si512(sign_bit(), bits(v))); }
  static V neg_abs(V v) { return _mm512_castsi512_ps(_mm512_or_si512(sign_bit(), bits(v))); }
  static V copysign(V mag, V s) {
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(sign_bit(), bits(s), bits(mag), 0xCA));  // sign ? s : mag
  }
  static M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M not_ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_NGE_UQ); }
  static V select(M m, V t, V f) { return _mm512_mask_blend_ps(m, f, t); }

  // vscalefps: y * 2^n in one instruction, correctly rounded into subnormals and inf.
  static V scale_pow2(V y, V n) { return _mm512_scalef_ps(y, n); }
  // Offsetting the bits by those of sqrt(1/2) makes the exponent field roll over at sqrt(2).
  static void split_log(V x, V& m, V& k) {
    const __m512i off = _mm512_set1_epi32(0x3f3504f3);
    const __m512i ix = _mm512_sub_epi32(bits(x), off);
    k = _mm512_cvtepi32_ps(_mm512_srai_epi32(ix, 23));
    m = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_and_si512(ix, _mm512_set1_epi32(0x007fffff)), off));
  }
  static float hsum(V v) { return _mm512_reduce_add_ps(v); }
  static float hmax(V v) { return _mm512_reduce_max_ps(v); }
};

}  // namespace
}  // namespace deepcore::cpu::vec

#include "cpu/vec_math_simd.h"

namespace deepcore::cpu::vec::detail {
const Kernels<float> avx512_f32 = simd::table<Avx512Ops>("avx512");
const Kernels<double> avx512_f64 = loops::scalar_table<double>("avx512");
}  // namespace deepcore::cpu::vec::detail
