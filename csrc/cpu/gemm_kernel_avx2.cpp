// AVX2 + FMA GEMM kernels: the templates of gemm_kernel_simd.h over 8-float /
// 4-double vectors. This file alone is compiled with -mavx2 -mfma. AVX2 has no
// mask registers: edge lanes use vmaskmov with a lane mask held in a vector.
#include <immintrin.h>

#include "cpu/gemm_kernel_simd.h"

namespace deepcore::cpu::gemm_detail {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  using Mask = __m256i;
  static Mask mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V load_masked(Mask k, const T* p) { return _mm256_maskload_ps(p, k); }
  static void store_masked(T* p, Mask k, V v) { _mm256_maskstore_ps(p, k, v); }
  static constexpr int L = 8, registers = 16;
  DC_GEMM_VECTOR_OPS(_mm256, ps)
  static V broadcast(const T* p) { return _mm256_broadcast_ss(p); }

  // vmaskmovps stores are slow on AMD (a dozen cycles each), so a narrow
  // sliver (W = 6) is written with full stores whose extra lanes land where
  // the next write goes anyway; only the buffer's last write must stay inside.
  static void store_part(T* p, V v, int width, bool last) {
    if (width == L || !last)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, mask(width), v);
  }

  static void transpose(V r[8]) {
    V t[8], u[8];
    for (int i = 0; i < 8; i += 2) {  // interleave pairs of rows
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {  // 128-bit lane l of u[i + c] = rows i..i+3 of column 4l + c
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
      r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
  }
};

struct F64 {
  using T = double;
  using V = __m256d;
  using Mask = __m256i;
  static Mask mask(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static V load_masked(Mask k, const T* p) { return _mm256_maskload_pd(p, k); }
  static void store_masked(T* p, Mask k, V v) { _mm256_maskstore_pd(p, k, v); }
  static constexpr int L = 4, registers = 16;
  DC_GEMM_VECTOR_OPS(_mm256, pd)
  static V broadcast(const T* p) { return _mm256_broadcast_sd(p); }
};

}  // namespace

// 6 x 16: 12 accumulators, two B vectors and a broadcast fill the 16 ymm
// registers. kc = 256 keeps a B sliver (16 KiB) in L1, mc = 128 an A block in L2.
KernelSpec<float> avx2_kernel_f32(int64_t /*n*/) {
  return {"avx2 6x16", 6, 16, 256, 128, 2048, &simd::kernel_with_edges<F32, 6, 2>, &simd::pack<F32, 6>,
          &simd::pack<F32, 16>, &simd::narrow_trans_a<F32>, &simd::narrow_direct_a<F32, 6>};
}

KernelSpec<double> avx2_kernel_f64(int64_t /*n*/) {
  return {"avx2 6x8 f64", 6, 8, 256, 96, 2048, &simd::kernel_with_edges<F64, 6, 2>, &pack_slivers_generic<double, 6>,
          &pack_slivers_generic<double, 8>, &narrow_trans_a_generic<double>};
}

}  // namespace deepcore::cpu::gemm_detail
