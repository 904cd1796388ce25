// Micro-kernels behind cpu::gemm, one set per instruction set. Each ISA lives
// in its own translation unit compiled with its own flags; gemm.cpp picks one
// at run time from cpu_isa(). Kernel files include nothing but intrinsics,
// this header and gemm_kernel_simd.h (the x86 templates), all internal
// linkage, so no inline function compiled with AVX flags can be merged by the
// linker into code that runs on a CPU without them.
#pragma once
#include <cstdint>

// Fully unrolled loops over a tile's accumulators keep them in registers;
// without it GCC spills them and a narrow tile runs 2.6x slower.
#if defined(__clang__)
#define DC_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define DC_UNROLL _Pragma("GCC unroll 16")
#else
#define DC_UNROLL
#endif

namespace deepcore::cpu::gemm_detail {

// C[0:m, 0:n] = alpha * (a @ b) + beta * C for one mr x nr register tile, m <= mr, n <= nr.
// `a` is a packed sliver of A: kc steps of mr values (column k of the tile's rows).
// `b` is a packed sliver of B: kc steps of nr values (row k of the tile's columns).
// Both are zero-padded to the full tile and 64-byte aligned. beta == 0: C is only written.
template <class T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int m, int n, T alpha,
                             T beta);

// Packs `lines` lines of a matrix into slivers of the kernel's width W (mr for
// A, nr for B): dst[s][k][w] = src[(s * W + w) * line_stride + k * k_stride],
// lines past `lines` zero-filled. Rows of A and columns of B both pack this way.
template <class T>
using PackFn = void (*)(const T* src, int64_t line_stride, int64_t k_stride, int64_t lines, int64_t kc, T* dst);

// C (m x n) = alpha * A^T B + beta * C for a narrow C, A stored k x m (row
// stride lda), B stored k x n (ldb); C's element (i, j) is C[i * rs + j * cs],
// with cs == 1 (C row-major) or rs == 1 (C^T row-major: the short product
// (g^T @ x) computed as its transpose). `ct` is scratch for n * m values.
template <class T>
using NarrowTransAFn = void (*)(int64_t m, int64_t n, int64_t k, T alpha, const T* A, int64_t lda, const T* B,
                                int64_t ldb, T beta, T* C, int64_t rs, int64_t cs, T* ct);

// C (m x n, n <= 16) = alpha * A @ B + beta * C with A read in place (row
// stride lda) and B packed as one 16-wide sliver: k rows of 16 values, zero
// padded, 64-byte aligned. Null where the ISA has no such kernel.
template <class T>
using NarrowDirectAFn = void (*)(int64_t m, int64_t n, int64_t k, T alpha, const T* A, int64_t lda,
                                 const T* packed_b, T beta, T* C, int64_t ldc);

// A register tile plus the cache blocks tuned for it (in elements):
// kc: depth of a packed sliver, sized so one B sliver (kc x nr) stays in L1;
// mc: rows of A packed together, sized so the A block (mc x kc) stays in L2;
// nc: columns of B packed together, sized so the B panel (kc x nc) stays in L3.
template <class T>
struct KernelSpec {
  const char* name;
  int mr, nr;
  int64_t kc, mc, nc;
  MicroKernel<T> kernel;
  PackFn<T> pack_a, pack_b;  // widths mr and nr
  NarrowTransAFn<T> narrow_trans_a;
  NarrowDirectAFn<T> narrow_direct_a = nullptr;  // used when nr == 16
};

// The plain C++ packer; each kernel file instantiates it with its own flags.
// Internal linkage on purpose: a shared (inline) copy could be taken from a
// file compiled with AVX-512 and run on a CPU without it.
namespace {
template <class T, int W>
void pack_slivers_generic(const T* src, int64_t line_stride, int64_t k_stride, int64_t lines, int64_t kc, T* dst) {
  if (line_stride == 1) {
    // The lines sit side by side in memory: copy a run per sliver and k, k
    // outermost so the source is read row by row, not down a narrow column.
    const int64_t slivers = (lines + W - 1) / W;
    for (int64_t k = 0; k < kc; ++k) {
      const T* sk = src + k * k_stride;
      for (int64_t sl = 0; sl < slivers; ++sl) {
        const int64_t l0 = sl * W;
        const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
        T* d = dst + sl * W * kc + k * W;
        if (w == W) {
          // A fixed-size copy becomes a few vector moves; the element loop
          // compiled to W scalar load/store pairs.
          __builtin_memcpy(d, sk + l0, sizeof(T) * W);
        } else {
          for (int i = 0; i < W; ++i) d[i] = i < w ? sk[l0 + i] : T(0);
        }
      }
    }
    return;
  }
  for (int64_t l0 = 0; l0 < lines; l0 += W, dst += W * kc) {
    // Each line runs along k: read it once, scatter it into the sliver.
    const int w = lines - l0 < W ? static_cast<int>(lines - l0) : W;
    const T* s = src + l0 * line_stride;
    for (int i = 0; i < w; ++i) {
      const T* line = s + i * line_stride;
      for (int64_t k = 0; k < kc; ++k) dst[k * W + i] = line[k * k_stride];
    }
    for (int i = w; i < W; ++i)
      for (int64_t k = 0; k < kc; ++k) dst[k * W + i] = T(0);
  }
}

// The weight gradient of a classifier layer (X^T @ grad, grad 10 wide) packs
// as many values of A as it multiplies. This path packs nothing: it builds C^T
// one row per column of C with long contiguous axpys over A's rows, which the
// compiler vectorizes with the including file's ISA flags, then writes C.
template <class T>
void narrow_trans_a_generic(int64_t m, int64_t n, int64_t k, T alpha, const T* A, int64_t lda, const T* B,
                            int64_t ldb, T beta, T* C, int64_t rs, int64_t cs, T* ct) {
  for (int64_t j = 0; j < n * m; ++j) ct[j] = T(0);
  for (int64_t kk = 0; kk < k; ++kk) {
    const T* a = A + kk * lda;
    const T* b = B + kk * ldb;
    for (int64_t j = 0; j < n; ++j) {
      const T bj = b[j];
      T* __restrict row = ct + j * m;
      for (int64_t i = 0; i < m; ++i) row[i] += bj * a[i];
    }
  }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      T& c = C[i * rs + j * cs];
      c = beta == T(0) ? alpha * ct[j * m + i] : alpha * ct[j * m + i] + beta * c;
    }
}
}  // namespace

// The kernel for a product whose C is n columns wide (narrow products may get a narrower tile).
KernelSpec<float> portable_kernel_f32(int64_t n);
KernelSpec<double> portable_kernel_f64(int64_t n);
#ifdef DEEPCORE_X86
KernelSpec<float> avx2_kernel_f32(int64_t n);  // call only when cpu_isa() >= AVX2
KernelSpec<double> avx2_kernel_f64(int64_t n);
KernelSpec<float> avx512_kernel_f32(int64_t n);  // call only when cpu_isa() == AVX512
KernelSpec<double> avx512_kernel_f64(int64_t n);
#endif

}  // namespace deepcore::cpu::gemm_detail
