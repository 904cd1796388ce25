// AVX-512 micro-kernels. This file alone is compiled with -mavx512f/dq/bw/vl -mfma.
#include <immintrin.h>

#include "cpu/gemm_kernels.h"

// GCC 12's AVX-512 shuffle intrinsics start from a self-initialised
// _mm512_undefined_ps(), which -Wmaybe-uninitialized reports at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace deepcore::cpu::gemm_detail {
namespace {

// One overload set per element type so the kernel below is written once.
struct F32 {
  using T = float;
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int lanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V load(const T* p) { return _mm512_load_ps(p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_masked(Mask k, const T* p) { return _mm512_maskz_loadu_ps(k, p); }
  static void store_masked(T* p, Mask k, V v) { _mm512_mask_storeu_ps(p, k, v); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int lanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V load(const T* p) { return _mm512_load_pd(p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm512_storeu_pd(p, v); }
  static V load_masked(Mask k, const T* p) { return _mm512_maskz_loadu_pd(k, p); }
  static void store_masked(T* p, Mask k, V v) { _mm512_mask_storeu_pd(p, k, v); }
};

// MR rows x NV vectors of accumulators; a row of C is NV vectors wide, so
// each k step is NV loads of B, MR broadcasts of A (folded into the FMAs as
// embedded broadcasts) and MR*NV FMAs. The packed A sliver holds AS >= MR
// rows per k, so an edge tile can run with fewer rows than the sliver.
template <class S, int MR, int NV, int AS = MR>
void kernel(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc, int m,
            int n, typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  constexpr int L = S::lanes;
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = S::zero();

  // Bring the C tile toward L1 while the k loop runs.
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
    if (i < m) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = S::load(b + j * L);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      V ai = S::set1(a[i]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(ai, bv[j], acc[i][j]);
    }
    a += AS;
    b += NV * L;
  }

  V va = S::set1(alpha), vb = S::set1(beta);
  if (m == MR && n == NV * L) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        typename S::T* p = c + i * ldc + j * L;
        V r = S::mul(acc[i][j], va);
        S::storeu(p, beta == 0 ? r : S::fma(vb, S::loadu(p), r));
      }
    return;
  }
  // Edge tile: mask the columns past n, skip the rows past m.
  typename S::Mask mask[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    int left = n - j * L;
    mask[j] = left >= L ? typename S::Mask(~0u) : left <= 0 ? typename S::Mask(0) : typename S::Mask((1u << left) - 1);
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      typename S::T* p = c + i * ldc + j * L;
      V r = S::mul(acc[i][j], va);
      if (beta != 0) r = S::fma(vb, S::load_masked(mask[j], p), r);
      S::store_masked(p, mask[j], r);
    }
  }
}

// c[lanes in mask] = alpha * acc + beta * c (c only written when beta == 0).
inline void store_scaled(float* c, __mmask16 mask, __m512 acc, float alpha, float beta) {
  __m512 r = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
  if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c), r);
  _mm512_mask_storeu_ps(c, mask, r);
}

// Transposes the 16 x 16 block held in r[0..15] (row i in r[i]) in place.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
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
    const __m512 even01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), odd01 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
    const __m512 even23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    const __m512 odd23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    t[c] = _mm512_shuffle_f32x4(even01, even23, 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(even01, even23, 0xDD);
    t[12 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Packing lines that run along k (rows of A, columns of a transposed B) is a
// transpose: 16 lines x 16 k at a time through registers instead of one
// scattered store per element.
template <int W>
void pack_f32(const float* src, int64_t line_stride, int64_t k_stride, int64_t lines, int64_t kc, float* dst) {
  if (line_stride == 1 || k_stride != 1) {
    pack_slivers_generic<float, W>(src, line_stride, k_stride, lines, kc, dst);
    return;
  }
  for (int64_t l0 = 0; l0 < lines; l0 += W, dst += W * kc) {
    const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
    for (int g = 0; g < W; g += 16) {
      const int valid = w - g < 0 ? 0 : w - g < 16 ? w - g : 16;
      const int width = W - g < 16 ? W - g : 16;
      const __mmask16 store_mask = static_cast<__mmask16>((1u << width) - 1);
      const float* s = src + (l0 + g) * line_stride;
      float* d = dst + g;
      for (int64_t k = 0; k < kc; k += 16) {
        const int64_t left = kc - k;
        const __mmask16 load_mask = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
        __m512 r[16];
        for (int i = 0; i < 16; ++i)
          r[i] = i < valid ? _mm512_maskz_loadu_ps(load_mask, s + i * line_stride + k) : _mm512_setzero_ps();
        transpose16x16(r);
        const int steps = left < 16 ? static_cast<int>(left) : 16;
        for (int j = 0; j < steps; ++j) _mm512_mask_storeu_ps(d + (k + j) * W, store_mask, r[j]);
      }
    }
  }
}

// The narrow A^T @ B path (see narrow_trans_a_generic) tiled in registers:
// 16 consecutive rows of C (one vector of A's row kk) times all N columns,
// accumulated over k in N vectors; per step one load of A, N broadcasts of B,
// N FMAs and no stores (12 us instead of 40 us for 512 x 10 x 128).
template <int N>
void narrow_tile_f32(int64_t rows, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                     float beta, float* C, int64_t rs, int64_t cs) {
  const __mmask16 mask = rows >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rows) - 1);
  __m512 acc[N];
  DC_UNROLL
  for (int j = 0; j < N; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m512 a = _mm512_maskz_loadu_ps(mask, A + kk * lda);
    const float* b = B + kk * ldb;
    DC_UNROLL
    for (int j = 0; j < N; ++j) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(b[j]), a, acc[j]);
  }
  if (rs == 1) {  // C^T row-major: each accumulator is a run of C^T's row j
    DC_UNROLL
    for (int j = 0; j < N; ++j) store_scaled(C + j * cs, mask, acc[j], alpha, beta);
    return;
  }
  alignas(64) float tile[N][16];
  DC_UNROLL
  for (int j = 0; j < N; ++j) _mm512_store_ps(tile[j], acc[j]);
  for (int64_t v = 0; v < rows; ++v) {
    float* c = C + v * rs;
    for (int j = 0; j < N; ++j) c[j] = beta == 0.0f ? alpha * tile[j][v] : alpha * tile[j][v] + beta * c[j];
  }
}

template <int N>
void narrow_f32_n(int64_t m, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                  float beta, float* C, int64_t rs, int64_t cs) {
  for (int64_t i0 = 0; i0 < m; i0 += 16)
    narrow_tile_f32<N>(m - i0 < 16 ? m - i0 : 16, k, alpha, A + i0, lda, B, ldb, beta, C + i0 * rs, rs, cs);
}

void narrow_trans_a_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B,
                        int64_t ldb, float beta, float* C, int64_t rs, int64_t cs, float* /*scratch: not needed*/) {
  using Fn = void (*)(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*, int64_t,
                      int64_t);
  static constexpr Fn by_width[16] = {
      &narrow_f32_n<1>, &narrow_f32_n<2>, &narrow_f32_n<3>, &narrow_f32_n<4>, &narrow_f32_n<5>, &narrow_f32_n<6>,
      &narrow_f32_n<7>, &narrow_f32_n<8>, &narrow_f32_n<9>, &narrow_f32_n<10>, &narrow_f32_n<11>, &narrow_f32_n<12>,
      &narrow_f32_n<13>, &narrow_f32_n<14>, &narrow_f32_n<15>, &narrow_f32_n<16>};
  by_width[n - 1](m, k, alpha, A, lda, B, ldb, beta, C, rs, cs);
}

// C (m x n, n <= 16) = alpha * A @ B + beta * C reading A in place: with C this
// narrow, packing A would move as many bytes as the FMAs consume. MR rows of
// one vector each; every k step broadcasts MR values straight from A's rows.
template <int MR>
void direct_tile_f32(int64_t k, const float* A, int64_t lda, const float* packed_b, float* C, int64_t ldc,
                     __mmask16 cols, float alpha, float beta) {
  __m512 acc[MR];
  DC_UNROLL
  for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m512 b = _mm512_load_ps(packed_b + kk * 16);
    DC_UNROLL
    for (int i = 0; i < MR; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(A[i * lda + kk]), b, acc[i]);
  }
  DC_UNROLL
  for (int i = 0; i < MR; ++i) store_scaled(C + i * ldc, cols, acc[i], alpha, beta);
}

// Tiles of MR rows, then the rest with MR/2, MR/4 ... rows: rows past m must not be read.
template <int MR>
void direct_rows_f32(int64_t m, int64_t k, const float* A, int64_t lda, const float* packed_b, float* C,
                     int64_t ldc, __mmask16 cols, float alpha, float beta) {
  int64_t i = 0;
  for (; i + MR <= m; i += MR) direct_tile_f32<MR>(k, A + i * lda, lda, packed_b, C + i * ldc, ldc, cols, alpha, beta);
  if constexpr (MR > 1)
    if (i < m) direct_rows_f32<MR / 2>(m - i, k, A + i * lda, lda, packed_b, C + i * ldc, ldc, cols, alpha, beta);
}

void narrow_direct_a_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                         const float* packed_b, float beta, float* C, int64_t ldc) {
  direct_rows_f32<12>(m, k, A, lda, packed_b, C, ldc, static_cast<__mmask16>((1u << n) - 1), alpha, beta);
}

// A tile of MR rows whose edge tiles (m < MR rows) run a kernel of MR/2,
// MR/4 ... rows instead of multiplying zero padding: a 9-row C (a one-channel
// 3x3 convolution's weight gradient) is one 8-row and one 1-row tile.
template <class S, int MR, int NV, int AS = MR>
void kernel_with_edges(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc,
                       int m, int n, typename S::T alpha, typename S::T beta) {
  if constexpr (MR > 1) {
    if (m <= MR / 2) return kernel_with_edges<S, MR / 2, NV, AS>(kc, a, b, c, ldc, m, n, alpha, beta);
  }
  kernel<S, MR, NV, AS>(kc, a, b, c, ldc, m, n, alpha, beta);
}

}  // namespace

// 8 x 32 (16 accumulators, two vectors per row) measured fastest on Zen 4
// against 14x32, 12x32, 6x64 and 16x16, and 8 rows tile the usual power-of-two
// batch sizes exactly. kc = 256 keeps a B sliver (32 KiB) in L1, mc = 256 an
// A block (256 KiB) in L2.
KernelSpec<float> avx512_kernel_f32(int64_t n) {
  // At most 16 columns (a classifier's logits): one vector per row instead of
  // two, most of which would be padding.
  if (n <= 16) return {"avx512 16x16", 16, 16, 256, 256, 2048, &kernel_with_edges<F32, 16, 1>, &pack_f32<16>, &pack_f32<16>,
                          &narrow_trans_a_f32, &narrow_direct_a_f32};
  return {"avx512 8x32", 8, 32, 256, 256, 2048, &kernel_with_edges<F32, 8, 2>, &pack_f32<8>, &pack_f32<32>,
          &narrow_trans_a_f32};
}

KernelSpec<double> avx512_kernel_f64(int64_t /*n*/) {
  return {"avx512 8x16 f64", 8, 16, 256, 128, 2048, &kernel_with_edges<F64, 8, 2>, &pack_slivers_generic<double, 8>,
          &pack_slivers_generic<double, 16>, &narrow_trans_a_generic<double>};
}

}  // namespace deepcore::cpu::gemm_detail
