// AVX-512 GEMM kernels: the templates of gemm_kernel_simd.h over 16-float /
// 8-double vectors. This file alone is compiled with -mavx512f/dq/bw/vl -mfma.
#include <immintrin.h>

// GCC 12's AVX-512 shuffle intrinsics start from a self-initialised
// _mm512_undefined_ps(), which -Wmaybe-uninitialized reports at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "cpu/gemm_kernel_simd.h"

namespace deepcore::cpu::gemm_detail {
namespace {

// Lanes [0, n) of an L-lane mask register.
template <class Mask, int L>
Mask first_lanes(int n) {
  return n >= L ? Mask(~0u) : n <= 0 ? Mask(0) : Mask((1u << n) - 1);
}

// Masked loads and stores cost no more than plain ones here, so every partial
// store is masked; a broadcast from memory folds into the FMA as an embedded
// broadcast.
struct F32 {
  using T = float;
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int L = 16, registers = 32;
  static Mask mask(int n) { return first_lanes<Mask, L>(n); }
  static V broadcast(const T* p) { return _mm512_set1_ps(*p); }
  DC_GEMM_VECTOR_OPS(_mm512, ps)
  static V load_masked(Mask k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void store_masked(T* p, Mask k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  static void store_part(T* p, V v, int width, bool /*last*/) { _mm512_mask_storeu_ps(p, mask(width), v); }

  static void transpose(V r[16]) {
    V t[16];
    for (int i = 0; i < 16; i += 2) {  // interleave pairs of rows
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {  // 128-bit lane l of r[i + c] = rows i..i+3 of column 4l + c
      const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
      const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
      r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; ++c) {  // gather lane l of r[c], r[4 + c], r[8 + c], r[12 + c]
      const V even01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), odd01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
      const V even23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
      const V odd23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
      t[c] = _mm512_shuffle_f32x4(even01, even23, 0x88);
      t[4 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);
      t[8 + c] = _mm512_shuffle_f32x4(even01, even23, 0xDD);
      t[12 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0xDD);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
  }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int L = 8, registers = 32;
  static Mask mask(int n) { return first_lanes<Mask, L>(n); }
  static V broadcast(const T* p) { return _mm512_set1_pd(*p); }
  DC_GEMM_VECTOR_OPS(_mm512, pd)
  static V load_masked(Mask k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void store_masked(T* p, Mask k, V v) { _mm512_mask_storeu_pd(p, k, v); }
};

}  // namespace

// 8 x 32 (16 accumulators, two vectors per row) measured fastest on Zen 4
// against 14x32, 12x32, 6x64 and 16x16, and 8 rows tile the usual power-of-two
// batch sizes exactly. kc = 256 keeps a B sliver (32 KiB) in L1, mc = 256 an
// A block (256 KiB) in L2.
KernelSpec<float> avx512_kernel_f32(int64_t n) {
  // At most 16 columns (a classifier's logits): one vector per row instead of
  // two, most of which would be padding.
  if (n <= 16)
    return {"avx512 16x16", 16, 16, 256, 256, 2048, &simd::kernel_with_edges<F32, 16, 1>, &simd::pack<F32, 16>,
            &simd::pack<F32, 16>, &simd::narrow_trans_a<F32>, &simd::narrow_direct_a<F32, 12>};
  return {"avx512 8x32", 8, 32, 256, 256, 2048, &simd::kernel_with_edges<F32, 8, 2>, &simd::pack<F32, 8>,
          &simd::pack<F32, 32>, &simd::narrow_trans_a<F32>};
}

KernelSpec<double> avx512_kernel_f64(int64_t /*n*/) {
  return {"avx512 8x16 f64", 8, 16, 256, 128, 2048, &simd::kernel_with_edges<F64, 8, 2>,
          &pack_slivers_generic<double, 8>, &pack_slivers_generic<double, 16>, &narrow_trans_a_generic<double>};
}

}  // namespace deepcore::cpu::gemm_detail
