// The x86 GEMM micro-kernels, packers and narrow-product paths, written once
// over a vector-traits struct S that gemm_kernel_avx2.cpp (8 floats per
// vector) and gemm_kernel_avx512.cpp (16 floats) each define and instantiate
// under their own ISA flags. Internal linkage, like gemm_kernels.h: a shared
// copy could be taken from the AVX-512 file and run on a CPU without it.
//
// S provides T (float or double), V (vector), Mask, L (lanes per vector) and
// registers (vector registers of the ISA); zero, set1, broadcast (from memory),
// load (aligned), loadu, storeu, mul, fma(a, b, c) = a*b + c; mask(n): lanes
// [0, n) on for any n (<= 0: none, >= L: all); load_masked (lanes off read as
// 0), store_masked. The float32 packers also need transpose(r), the L x L
// block in r[0..L-1] transposed in place, and store_part(p, v, width, last):
// stores lanes [0, width) of v at p, and may write past them unless `last`
// (the write that ends the packing buffer).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "cpu/gemm_kernels.h"

// Members whose intrinsics differ between the traits structs only in prefix
// (_mm256, _mm512) and suffix (ps, pd); the struct defines T and V first.
#define DC_GEMM_VECTOR_OPS(PREFIX, SUFFIX)                                 \
  static V zero() { return PREFIX##_setzero_##SUFFIX(); }                  \
  static V set1(T x) { return PREFIX##_set1_##SUFFIX(x); }                 \
  static V load(const T* p) { return PREFIX##_load_##SUFFIX(p); }          \
  static V loadu(const T* p) { return PREFIX##_loadu_##SUFFIX(p); }        \
  static void storeu(T* p, V v) { PREFIX##_storeu_##SUFFIX(p, v); }        \
  static V mul(V a, V b) { return PREFIX##_mul_##SUFFIX(a, b); }           \
  static V fma(V a, V b, V c) { return PREFIX##_fmadd_##SUFFIX(a, b, c); }

namespace deepcore::cpu::gemm_detail {
namespace {
namespace simd {

// The largest power of two below n (n >= 2): the height of the next edge tile.
constexpr int half_tile(int n) {
  int p = 1;
  while (2 * p < n) p *= 2;
  return p;
}

// C[0:m, 0:n] = alpha * acc + beta * C for an MR x (NV vectors) tile; beta == 0: C is only written.
template <class S, int MR, int NV>
inline void store_tile(typename S::V (&acc)[MR][NV], typename S::T* c, int64_t ldc, int m, int n,
                       typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  constexpr int L = S::L;
  const V va = S::set1(alpha), vb = S::set1(beta);
  if (m == MR && n == NV * L) {
    DC_UNROLL
    for (int i = 0; i < MR; ++i)
      DC_UNROLL
      for (int j = 0; j < NV; ++j) {
        typename S::T* p = c + i * ldc + j * L;
        const V r = S::mul(acc[i][j], va);
        S::storeu(p, beta == 0 ? r : S::fma(vb, S::loadu(p), r));
      }
    return;
  }
  // Edge tile: mask the columns past n, skip the rows past m.
  typename S::Mask mask[NV];
  DC_UNROLL
  for (int j = 0; j < NV; ++j) mask[j] = S::mask(n - j * L);
  DC_UNROLL
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    DC_UNROLL
    for (int j = 0; j < NV; ++j) {
      typename S::T* p = c + i * ldc + j * L;
      V r = S::mul(acc[i][j], va);
      if (beta != 0) r = S::fma(vb, S::load_masked(mask[j], p), r);
      S::store_masked(p, mask[j], r);
    }
  }
}

// MR rows x NV vectors of accumulators; each k step is NV loads of B, MR
// broadcasts of A and MR*NV FMAs. The packed A sliver holds AS >= MR rows per
// k, so an edge tile can run with fewer rows than its sliver.
template <class S, int MR, int NV, int AS = MR>
void kernel(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc, int m,
            int n, typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  constexpr int L = S::L;
  V acc[MR][NV];
  DC_UNROLL
  for (int i = 0; i < MR; ++i)
    DC_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = S::zero();

  // Bring the C tile toward L1 while the k loop runs.
  DC_UNROLL
  for (int i = 0; i < MR; ++i)
    if (i < m) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
    DC_UNROLL
    for (int j = 0; j < NV; ++j) bv[j] = S::load(b + j * L);
    DC_UNROLL
    for (int i = 0; i < MR; ++i) {
      const V ai = S::broadcast(a + i);
      DC_UNROLL
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(ai, bv[j], acc[i][j]);
    }
    a += AS;
    b += NV * L;
  }
  store_tile<S, MR, NV>(acc, c, ldc, m, n, alpha, beta);
}

// The MR-row tile whose edge tiles (m < MR rows) run a kernel of the next
// lower power of two rows instead of multiplying zero padding: M = 128 with 6
// rows leaves a 2-row tile, and a 9-row C (a one-channel 3x3 convolution's
// weight gradient) is one 8-row and one 1-row tile.
template <class S, int MR, int NV, int AS = MR>
void kernel_with_edges(int64_t kc, const typename S::T* a, const typename S::T* b, typename S::T* c, int64_t ldc,
                       int m, int n, typename S::T alpha, typename S::T beta) {
  if constexpr (MR > 1) {
    constexpr int next = half_tile(MR);
    if (m <= next) return kernel_with_edges<S, next, NV, AS>(kc, a, b, c, ldc, m, n, alpha, beta);
  }
  kernel<S, MR, NV, AS>(kc, a, b, c, ldc, m, n, alpha, beta);
}

// Lines side by side in memory (rows of B, rows of a transposed A): vector
// copies of L lines per k, zero-filling lines past `lines`. k is the outer loop
// so the source is read row by row: walking down a 16-wide column of a 2 KiB-
// stride B instead took 12 % of a 128x784x512 product.
template <class S, int W>
void pack_runs(const typename S::T* src, int64_t k_stride, int64_t lines, int64_t kc, typename S::T* dst) {
  constexpr int L = S::L;
  const int64_t slivers = (lines + W - 1) / W;
  for (int64_t k = 0; k < kc; ++k) {
    const typename S::T* s = src + k * k_stride;
    // A sliver's last k would spill into the next sliver, already written.
    const bool last = k == kc - 1;
    for (int64_t sl = 0; sl < slivers; ++sl) {
      const int64_t l0 = sl * W;
      const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
      typename S::T* d = dst + sl * W * kc + k * W;
      for (int g = 0; g < W; g += L) {
        const int valid = w - g < 0 ? 0 : w - g < L ? w - g : L;
        const int width = W - g < L ? W - g : L;
        const typename S::V v = valid == L ? S::loadu(s + l0 + g) : S::load_masked(S::mask(valid), s + l0 + g);
        S::store_part(d + g, v, width, last);
      }
    }
  }
}

// Lines that run along k (rows of A, columns of a transposed B): packing is a
// transpose, L lines x L k at a time through registers instead of one
// scattered store per element.
template <class S, int W>
void pack_transposed(const typename S::T* src, int64_t line_stride, int64_t lines, int64_t kc, typename S::T* dst) {
  using V = typename S::V;
  constexpr int L = S::L;
  for (int64_t l0 = 0; l0 < lines; l0 += W, dst += W * kc) {
    const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
    const bool last_sliver = l0 + W >= lines;
    for (int g = 0; g < W; g += L) {
      const int valid = w - g < 0 ? 0 : w - g < L ? w - g : L;
      const int width = W - g < L ? W - g : L;
      const typename S::T* s = src + (l0 + g) * line_stride;
      typename S::T* d = dst + g;
      for (int64_t k = 0; k < kc; k += L) {
        const int steps = kc - k < L ? static_cast<int>(kc - k) : L;
        V r[L];
        if (steps == L) {
          for (int i = 0; i < L; ++i) r[i] = i < valid ? S::loadu(s + i * line_stride + k) : S::zero();
        } else {
          const typename S::Mask load_mask = S::mask(steps);
          for (int i = 0; i < L; ++i) r[i] = i < valid ? S::load_masked(load_mask, s + i * line_stride + k) : S::zero();
        }
        S::transpose(r);
        for (int j = 0; j < steps; ++j) S::store_part(d + (k + j) * W, r[j], width, last_sliver && k + j == kc - 1);
      }
    }
  }
}

// A PackFn (gemm_kernels.h) for slivers of width W.
template <class S, int W>
void pack(const typename S::T* src, int64_t line_stride, int64_t k_stride, int64_t lines, int64_t kc,
          typename S::T* dst) {
  if (line_stride == 1)
    pack_runs<S, W>(src, k_stride, lines, kc, dst);
  else if (k_stride == 1)
    pack_transposed<S, W>(src, line_stride, lines, kc, dst);
  else
    pack_slivers_generic<typename S::T, W>(src, line_stride, k_stride, lines, kc, dst);
}

// C (m x n, n <= 16) = alpha * A @ B + beta * C reading A in place: with C this
// narrow, packing A would move as many bytes as the FMAs consume. Each k step
// broadcasts MR values straight from MR rows of A against the packed B row.
template <class S, int MR, int NV>
void direct_tile(int64_t k, const typename S::T* A, int64_t lda, const typename S::T* packed_b, typename S::T* C,
                 int64_t ldc, int n, typename S::T alpha, typename S::T beta) {
  using V = typename S::V;
  V acc[MR][NV];
  DC_UNROLL
  for (int i = 0; i < MR; ++i)
    DC_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = S::zero();
  for (int64_t kk = 0; kk < k; ++kk) {
    V bv[NV];
    DC_UNROLL
    for (int j = 0; j < NV; ++j) bv[j] = S::load(packed_b + kk * 16 + j * S::L);
    DC_UNROLL
    for (int i = 0; i < MR; ++i) {
      const V ai = S::broadcast(A + i * lda + kk);
      DC_UNROLL
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(ai, bv[j], acc[i][j]);
    }
  }
  store_tile<S, MR, NV>(acc, C, ldc, MR, n, alpha, beta);
}

// Tiles of MR rows, then the rest with MR/2, MR/4 ... rows: rows past m must not be read.
template <class S, int MR, int NV>
void direct_rows(int64_t m, int64_t k, const typename S::T* A, int64_t lda, const typename S::T* packed_b,
                 typename S::T* C, int64_t ldc, int n, typename S::T alpha, typename S::T beta) {
  int64_t i = 0;
  for (; i + MR <= m; i += MR) direct_tile<S, MR, NV>(k, A + i * lda, lda, packed_b, C + i * ldc, ldc, n, alpha, beta);
  if constexpr (MR > 1)
    if (i < m) direct_rows<S, MR / 2, NV>(m - i, k, A + i * lda, lda, packed_b, C + i * ldc, ldc, n, alpha, beta);
}

// A NarrowDirectAFn with MR-row tiles; C's 16 columns are 16 / L vectors, one when n fits in one.
template <class S, int MR>
void narrow_direct_a(int64_t m, int64_t n, int64_t k, typename S::T alpha, const typename S::T* A, int64_t lda,
                     const typename S::T* packed_b, typename S::T beta, typename S::T* C, int64_t ldc) {
  constexpr int NV = 16 / S::L;
  const int cols = static_cast<int>(n);
  if constexpr (NV > 1) {
    if (n <= S::L) return direct_rows<S, MR, 1>(m, k, A, lda, packed_b, C, ldc, cols, alpha, beta);
  }
  direct_rows<S, MR, NV>(m, k, A, lda, packed_b, C, ldc, cols, alpha, beta);
}

// The narrow A^T @ B path (see narrow_trans_a_generic) tiled in registers:
// L consecutive rows of C (one vector of A's row kk) times N columns,
// accumulated over k in N vectors; per step one load of A, N broadcasts of B,
// N FMAs and no stores (AVX-512: 12 us instead of 40 us for 512 x 10 x 128).
template <class S, int N>
void narrow_tile(int64_t rows, int64_t k, typename S::T alpha, const typename S::T* A, int64_t lda,
                 const typename S::T* B, int64_t ldb, typename S::T beta, typename S::T* C, int64_t rs, int64_t cs) {
  using V = typename S::V;
  constexpr int L = S::L;
  const bool full = rows >= L;
  const typename S::Mask mask = S::mask(full ? L : static_cast<int>(rows));
  V acc[N];
  DC_UNROLL
  for (int j = 0; j < N; ++j) acc[j] = S::zero();
  for (int64_t kk = 0; kk < k; ++kk) {
    const V a = full ? S::loadu(A + kk * lda) : S::load_masked(mask, A + kk * lda);
    const typename S::T* b = B + kk * ldb;
    DC_UNROLL
    for (int j = 0; j < N; ++j) acc[j] = S::fma(S::broadcast(b + j), a, acc[j]);
  }
  if (rs == 1) {  // C^T row-major: each accumulator is a run of C^T's row j
    const V va = S::set1(alpha), vb = S::set1(beta);
    DC_UNROLL
    for (int j = 0; j < N; ++j) {
      typename S::T* c = C + j * cs;
      V r = S::mul(acc[j], va);
      if (full) {
        if (beta != 0) r = S::fma(vb, S::loadu(c), r);
        S::storeu(c, r);
      } else {
        if (beta != 0) r = S::fma(vb, S::load_masked(mask, c), r);
        S::store_masked(c, mask, r);
      }
    }
    return;
  }
  alignas(64) typename S::T tile[N][L];
  DC_UNROLL
  for (int j = 0; j < N; ++j) S::storeu(tile[j], acc[j]);
  for (int64_t v = 0; v < rows; ++v) {
    typename S::T* c = C + v * rs;
    for (int j = 0; j < N; ++j) c[j] = beta == 0 ? alpha * tile[j][v] : alpha * tile[j][v] + beta * c[j];
  }
}

template <class S, int N>
void narrow_rows(int64_t m, int64_t k, typename S::T alpha, const typename S::T* A, int64_t lda,
                 const typename S::T* B, int64_t ldb, typename S::T beta, typename S::T* C, int64_t rs, int64_t cs) {
  constexpr int L = S::L;
  for (int64_t i0 = 0; i0 < m; i0 += L)
    narrow_tile<S, N>(m - i0 < L ? m - i0 : L, k, alpha, A + i0, lda, B, ldb, beta, C + i0 * rs, rs, cs);
}

// narrow_rows for a width n <= N known only at run time.
template <class S, int N>
void narrow_width(int64_t n, int64_t m, int64_t k, typename S::T alpha, const typename S::T* A, int64_t lda,
                  const typename S::T* B, int64_t ldb, typename S::T beta, typename S::T* C, int64_t rs, int64_t cs) {
  if constexpr (N > 1) {
    if (n < N) return narrow_width<S, N - 1>(n, m, k, alpha, A, lda, B, ldb, beta, C, rs, cs);
  }
  narrow_rows<S, N>(m, k, alpha, A, lda, B, ldb, beta, C, rs, cs);
}

// A NarrowTransAFn. The N accumulators, A's vector and a broadcast must fit the
// registers: 12 columns on AVX2's 16, all 16 on AVX-512's 32. A wider C takes
// two passes over A's rows (still in cache), each for half the columns.
template <class S>
void narrow_trans_a(int64_t m, int64_t n, int64_t k, typename S::T alpha, const typename S::T* A, int64_t lda,
                    const typename S::T* B, int64_t ldb, typename S::T beta, typename S::T* C, int64_t rs, int64_t cs,
                    typename S::T* /*scratch: not needed*/) {
  constexpr int max_n = S::registers - 4 < 16 ? S::registers - 4 : 16;
  const int64_t first = n <= max_n ? n : n / 2;
  narrow_width<S, max_n>(first, m, k, alpha, A, lda, B, ldb, beta, C, rs, cs);
  if (first < n) narrow_width<S, max_n>(n - first, m, k, alpha, A, lda, B + first, ldb, beta, C + first * cs, rs, cs);
}

}  // namespace simd
}  // namespace
}  // namespace deepcore::cpu::gemm_detail
