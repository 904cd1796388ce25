// AVX2 + FMA micro-kernels. This file alone is compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "cpu/gemm_kernels.h"

namespace deepcore::cpu::gemm_detail {
namespace {

// One overload set per element type so the kernel below is written once.
// AVX2 has no mask registers: edge columns use vmaskmov with a lane mask.
struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int lanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V broadcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V load(const T* p) { return _mm256_load_ps(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i mask(int n) {  // lanes [0, n) on
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_masked(__m256i k, const T* p) { return _mm256_maskload_ps(p, k); }
  static void store_masked(T* p, __m256i k, V v) { _mm256_maskstore_ps(p, k, v); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int lanes = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V broadcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V load(const T* p) { return _mm256_load_pd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm256_storeu_pd(p, v); }
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static V load_masked(__m256i k, const T* p) { return _mm256_maskload_pd(p, k); }
  static void store_masked(T* p, __m256i k, V v) { _mm256_maskstore_pd(p, k, v); }
};

// C[0:m, 0:n] = alpha * acc + beta * C for an MR x (NV vectors) tile.
template <class S, int MR, int NV>
inline void store_tile(typename S::V (&acc)[MR][NV], typename S::T* c, int64_t ldc, int m, int n,
                       typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  constexpr int L = S::lanes;
  V va = S::set1(alpha), vb = S::set1(beta);
  if (m == MR && n == NV * L) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        typename S::T* p = c + i * ldc + j * L;
        V r = S::mul(acc[i][j], va);
        S::storeu(p, beta == 0 ? r : S::fma(vb, S::loadu(p), r));
      }
    return;
  }
  // Edge tile: mask the columns past n, skip the rows past m.
  __m256i mask[NV];
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) mask[j] = S::mask(n - j * L);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      typename S::T* p = c + i * ldc + j * L;
      V r = S::mul(acc[i][j], va);
      if (beta != 0) r = S::fma(vb, S::load_masked(mask[j], p), r);
      S::store_masked(p, mask[j], r);
    }
  }
}

// MR rows x NV vectors of accumulators; each k step is NV loads of B, MR
// broadcasts of A and MR*NV FMAs. 6 x 2 uses 12 of the 16 ymm registers for
// accumulators, leaving room for the B vectors and one broadcast. The packed
// A sliver holds AS rows per k (AS >= MR): an edge tile of a 6-row sliver runs
// with fewer rows instead of multiplying its zero padding.
template <class S, int MR, int NV, int AS = MR>
void kernel(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc, int m,
            int n, typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  constexpr int L = S::lanes;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = S::zero();

  // Bring the C tile toward L1 while the k loop runs.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
    if (i < m) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = S::load(b + j * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      V ai = S::broadcast(a + i);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(ai, bv[j], acc[i][j]);
    }
    a += AS;
    b += NV * L;
  }

  store_tile<S, MR, NV>(acc, c, ldc, m, n, alpha, beta);
}

// Transposes the 8 x 8 block held in r[0..7] (row i in r[i]) in place.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
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

// Stores `width` lanes of v at p. vmaskmovps stores are slow on AMD (a dozen
// cycles each), so a narrow sliver (W = 6) is written with full stores whose
// extra lanes land where the next write goes anyway; only the last write into
// the buffer (`last`) must stay inside it.
inline void store_lanes(float* p, __m256 v, int width, bool last) {
  if (width == 8 || !last)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, F32::mask(width), v);
}

// Lines side by side in memory (rows of a transposed A, rows of B): one
// vector copy per 8 lines and k, zero-filling lines past `lines`. k is the
// outer loop so the source is read row by row: walking down a 16-wide column
// of a 2 KiB-stride B instead took 12 % of a 128x784x512 product.
template <int W>
void pack_runs_f32(const float* src, int64_t k_stride, int64_t lines, int64_t kc, float* dst) {
  const int64_t slivers = (lines + W - 1) / W;
  for (int64_t k = 0; k < kc; ++k) {
    const float* s = src + k * k_stride;
    // A sliver's last k spills into the next sliver, already written: mask it.
    const bool last = k == kc - 1;
    for (int64_t sl = 0; sl < slivers; ++sl) {
      const int64_t l0 = sl * W;
      const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
      float* d = dst + sl * W * kc + k * W;
      for (int g = 0; g < W; g += 8) {
        const int valid = w - g < 0 ? 0 : w - g < 8 ? w - g : 8;
        const int width = W - g < 8 ? W - g : 8;
        const __m256 v = valid == 8 ? _mm256_loadu_ps(s + l0 + g) : _mm256_maskload_ps(s + l0 + g, F32::mask(valid));
        store_lanes(d + g, v, width, last);
      }
    }
  }
}

// Packing lines that run along k (rows of A, columns of a transposed B) is a
// transpose: 8 lines x 8 k at a time through registers instead of one
// scattered store per element.
template <int W>
void pack_f32(const float* src, int64_t line_stride, int64_t k_stride, int64_t lines, int64_t kc, float* dst) {
  if (line_stride == 1) {
    pack_runs_f32<W>(src, k_stride, lines, kc, dst);
    return;
  }
  if (k_stride != 1) {
    pack_slivers_generic<float, W>(src, line_stride, k_stride, lines, kc, dst);
    return;
  }
  for (int64_t l0 = 0; l0 < lines; l0 += W, dst += W * kc) {
    const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
    const bool last_sliver = l0 + W >= lines;
    for (int g = 0; g < W; g += 8) {
      const int valid = w - g < 0 ? 0 : w - g < 8 ? w - g : 8;
      const int width = W - g < 8 ? W - g : 8;
      const float* s = src + (l0 + g) * line_stride;
      float* d = dst + g;
      for (int64_t k = 0; k < kc; k += 8) {
        const int64_t left = kc - k;
        const int steps = left < 8 ? static_cast<int>(left) : 8;
        __m256 r[8];
        if (steps == 8) {
          for (int i = 0; i < 8; ++i) r[i] = i < valid ? _mm256_loadu_ps(s + i * line_stride + k) : _mm256_setzero_ps();
        } else {
          const __m256i load_mask = F32::mask(steps);
          for (int i = 0; i < 8; ++i)
            r[i] = i < valid ? _mm256_maskload_ps(s + i * line_stride + k, load_mask) : _mm256_setzero_ps();
        }
        transpose8x8(r);
        for (int j = 0; j < steps; ++j) store_lanes(d + (k + j) * W, r[j], width, last_sliver && k + j == kc - 1);
      }
    }
  }
}

// C (m x n, n <= 16) = alpha * A @ B + beta * C reading A in place: with C this
// narrow, packing A would move as many bytes as the FMAs consume. Each k step
// broadcasts MR values straight from MR rows of A against the packed B row.
template <int MR, int NV>
void direct_tile_f32(int64_t k, const float* A, int64_t lda, const float* packed_b, float* C, int64_t ldc, int n,
                     float alpha, float beta) {
  __m256 acc[MR][NV];
  DC_UNROLL
  for (int i = 0; i < MR; ++i)
    DC_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    __m256 bv[NV];
    DC_UNROLL
    for (int j = 0; j < NV; ++j) bv[j] = _mm256_load_ps(packed_b + kk * 16 + j * 8);
    DC_UNROLL
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(A + i * lda + kk);
      DC_UNROLL
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_fmadd_ps(ai, bv[j], acc[i][j]);
    }
  }
  store_tile<F32, MR, NV>(acc, C, ldc, MR, n, alpha, beta);
}

// Tiles of MR rows, then the rest with MR/2, MR/4 ... rows: rows past m must not be read.
template <int MR, int NV>
void direct_rows_f32(int64_t m, int64_t k, const float* A, int64_t lda, const float* packed_b, float* C,
                     int64_t ldc, int n, float alpha, float beta) {
  int64_t i = 0;
  for (; i + MR <= m; i += MR) direct_tile_f32<MR, NV>(k, A + i * lda, lda, packed_b, C + i * ldc, ldc, n, alpha, beta);
  if constexpr (MR > 1)
    if (i < m) direct_rows_f32<MR / 2, NV>(m - i, k, A + i * lda, lda, packed_b, C + i * ldc, ldc, n, alpha, beta);
}

void narrow_direct_a_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                         const float* packed_b, float beta, float* C, int64_t ldc) {
  if (n <= 8)
    direct_rows_f32<6, 1>(m, k, A, lda, packed_b, C, ldc, static_cast<int>(n), alpha, beta);
  else
    direct_rows_f32<6, 2>(m, k, A, lda, packed_b, C, ldc, static_cast<int>(n), alpha, beta);
}

// The narrow A^T @ B path (see narrow_trans_a_generic) tiled in registers:
// 8 consecutive rows of C (one vector of A's row kk) times N columns,
// accumulated over k in N vectors; per step one load of A, N broadcasts of B
// and N FMAs. N <= 12 leaves registers for A and the broadcast.
template <int N>
void narrow_tile_f32(int64_t rows, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                     float beta, float* C, int64_t rs, int64_t cs) {
  const __m256i mask = F32::mask(rows >= 8 ? 8 : static_cast<int>(rows));
  __m256 acc[N];
  DC_UNROLL
  for (int j = 0; j < N; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m256 a = rows >= 8 ? _mm256_loadu_ps(A + kk * lda) : _mm256_maskload_ps(A + kk * lda, mask);
    const float* b = B + kk * ldb;
    DC_UNROLL
    for (int j = 0; j < N; ++j) acc[j] = _mm256_fmadd_ps(_mm256_broadcast_ss(b + j), a, acc[j]);
  }
  if (rs == 1) {  // C^T row-major: each accumulator is a run of C^T's row j
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    DC_UNROLL
    for (int j = 0; j < N; ++j) {
      float* c = C + j * cs;
      __m256 r = _mm256_mul_ps(acc[j], va);
      if (rows >= 8) {
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r);
        _mm256_storeu_ps(c, r);
      } else {
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, mask), r);
        _mm256_maskstore_ps(c, mask, r);
      }
    }
    return;
  }
  alignas(32) float tile[N][8];
  DC_UNROLL
  for (int j = 0; j < N; ++j) _mm256_store_ps(tile[j], acc[j]);
  for (int64_t v = 0; v < rows; ++v) {
    float* c = C + v * rs;
    for (int j = 0; j < N; ++j) c[j] = beta == 0.0f ? alpha * tile[j][v] : alpha * tile[j][v] + beta * c[j];
  }
}

template <int N>
void narrow_f32_n(int64_t m, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                  float beta, float* C, int64_t rs, int64_t cs) {
  for (int64_t i0 = 0; i0 < m; i0 += 8)
    narrow_tile_f32<N>(m - i0 < 8 ? m - i0 : 8, k, alpha, A + i0, lda, B, ldb, beta, C + i0 * rs, rs, cs);
}

void narrow_trans_a_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B,
                        int64_t ldb, float beta, float* C, int64_t rs, int64_t cs, float* /*scratch: not needed*/) {
  using Fn = void (*)(int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*, int64_t,
                      int64_t);
  static constexpr Fn by_width[12] = {&narrow_f32_n<1>, &narrow_f32_n<2>, &narrow_f32_n<3>,  &narrow_f32_n<4>,
                                      &narrow_f32_n<5>, &narrow_f32_n<6>, &narrow_f32_n<7>,  &narrow_f32_n<8>,
                                      &narrow_f32_n<9>, &narrow_f32_n<10>, &narrow_f32_n<11>, &narrow_f32_n<12>};
  // Wider than 12: two passes over A's rows (still in cache), each for half the columns.
  const int64_t first = n <= 12 ? n : n / 2;
  by_width[first - 1](m, k, alpha, A, lda, B, ldb, beta, C, rs, cs);
  if (first < n) by_width[n - first - 1](m, k, alpha, A, lda, B + first, ldb, beta, C + first * cs, rs, cs);
}

// The 6-row tile with its edge tiles (M = 128 leaves 2 rows of 6: 3 % of the work wasted otherwise).
template <class S>
void kernel_6rows(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc, int m,
                  int n, typename S::T alpha, typename S::T beta) {
  if (m > 4)
    kernel<S, 6, 2>(kc, a, b, c, ldc, m, n, alpha, beta);
  else if (m > 2)
    kernel<S, 4, 2, 6>(kc, a, b, c, ldc, m, n, alpha, beta);
  else
    kernel<S, 2, 2, 6>(kc, a, b, c, ldc, m, n, alpha, beta);
}

}  // namespace

// 6 x 16: 12 accumulators, two B vectors and a broadcast fill the 16 ymm
// registers. kc = 256 keeps a B sliver (16 KiB) in L1, mc = 128 an A block in L2.
KernelSpec<float> avx2_kernel_f32(int64_t /*n*/) {
  return {"avx2 6x16", 6, 16, 256, 128, 2048, &kernel_6rows<F32>, &pack_f32<6>, &pack_f32<16>,
          &narrow_trans_a_f32, &narrow_direct_a_f32};
}

KernelSpec<double> avx2_kernel_f64(int64_t /*n*/) {
  return {"avx2 6x8 f64", 6, 8, 256, 96, 2048, &kernel_6rows<F64>, &pack_slivers_generic<double, 6>,
          &pack_slivers_generic<double, 8>, &narrow_trans_a_generic<double>};
}

}  // namespace deepcore::cpu::gemm_detail
