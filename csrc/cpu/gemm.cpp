// Packed, cache-blocked GEMM in the BLIS / GotoBLAS scheme:
//
//   jc: columns of C in steps of nc      B panel  (kc x nc) packed, lives in L3
//   pc: the K dimension in steps of kc
//   ic: rows of C in steps of mc         A block  (mc x kc) packed, lives in L2
//   jr: columns in steps of nr           B sliver (kc x nr) stays in L1
//   ir: rows in steps of mr              A sliver streams from L2 into the
//                                        micro-kernel's mr x nr register tile
//
// Packing lays every sliver out in the order the micro-kernel reads it, so the
// kernel's loads are sequential and aligned whatever the strides or transposes
// of the operands. Threads each take a rectangle of C and run the whole loop
// nest on it with their own packing buffers: no barriers, and a rectangle
// covers at least one register tile.
#include "cpu/gemm.h"

#include <algorithm>
#include <new>
#include <cstdlib>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "cpu/gemm_kernels.h"

namespace deepcore::cpu {
namespace {

using gemm_detail::KernelSpec;

template <class T>
KernelSpec<T> kernel_for(CpuIsa isa, int64_t n);

template <>
KernelSpec<float> kernel_for<float>(CpuIsa isa, int64_t n) {
#ifdef DEEPCORE_X86
  if (isa == CpuIsa::AVX512) return gemm_detail::avx512_kernel_f32(n);
  if (isa == CpuIsa::AVX2) return gemm_detail::avx2_kernel_f32(n);
#endif
  (void)isa;
  return gemm_detail::portable_kernel_f32(n);
}

template <>
KernelSpec<double> kernel_for<double>(CpuIsa isa, int64_t n) {
#ifdef DEEPCORE_X86
  if (isa == CpuIsa::AVX512) return gemm_detail::avx512_kernel_f64(n);
  if (isa == CpuIsa::AVX2) return gemm_detail::avx2_kernel_f64(n);
#endif
  (void)isa;
  return gemm_detail::portable_kernel_f64(n);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `n` into the fewest blocks of at most `block`, of nearly equal size
// rounded up to `multiple`, so the last block is not a sliver (K = 784 with
// kc = 256 becomes 4 x 196, not 3 x 256 + 16).
int64_t balanced_block(int64_t n, int64_t block, int64_t multiple) {
  int64_t blocks = ceil_div(n, block);
  return std::min(round_up(ceil_div(n, blocks), multiple), round_up(block, multiple));
}

// op(X) as a strided matrix: element (i, j) is p[i * rs + j * cs].
template <class T>
struct View {
  const T* p;
  int64_t rs, cs;
  const T* at(int64_t i, int64_t j) const { return p + i * rs + j * cs; }
};

// C = beta * C, where beta == 0 writes zeros whatever C held (NaN included).
template <class T>
void scale_rows(int64_t m, int64_t n, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0))
      std::fill(row, row + n, T(0));
    else if (beta != T(1))
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
  }
}

// The BLIS loop nest for the rows [m0, m1) and columns [n0, n1) of C.
template <class T>
void gemm_rect(const KernelSpec<T>& ks, View<T> A, View<T> B, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
               int64_t K, T alpha, T beta, T* C, int64_t ldc) {
  const int mr = ks.mr, nr = ks.nr;
  const int64_t kc_max = balanced_block(K, ks.kc, 1);
  const int64_t mc_max = balanced_block(m1 - m0, ks.mc, mr);
  const int64_t nc_max = balanced_block(n1 - n0, ks.nc, nr);
  thread_local Workspace a_buffer, b_buffer;
  T* packed_a = a_buffer.get<T>(mc_max * kc_max);
  T* packed_b = b_buffer.get<T>(nc_max * kc_max);

  for (int64_t jc = n0; jc < n1; jc += nc_max) {
    const int64_t nc = std::min(nc_max, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      ks.pack_b(B.at(pc, jc), B.cs, B.rs, nc, kc, packed_b);
      // Only the first slice of K sees the caller's beta; later ones accumulate.
      const T beta_pc = pc == 0 ? beta : T(1);
      for (int64_t ic = m0; ic < m1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, m1 - ic);
        ks.pack_a(A.at(ic, pc), A.rs, A.cs, mc, kc, packed_a);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int n = static_cast<int>(std::min<int64_t>(nr, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int m = static_cast<int>(std::min<int64_t>(mr, mc - ir));
            ks.kernel(kc, packed_a + ir * kc, packed_b + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, m, n,
                      alpha, beta_pc);
          }
        }
      }
    }
  }
}

// How C is cut among threads: a tm x tn grid of rectangles, whole register tiles each.
struct ThreadGrid {
  int64_t tm = 1, tn = 1;
  int64_t rows = 0, cols = 0;  // of one rectangle (the last ones may be smaller)
};

ThreadGrid plan_threads(int64_t M, int64_t N, int64_t K, int mr, int nr, int max_threads) {
  // Below ~0.25 MFLOP per thread the fork/join costs more than it saves.
  const int64_t min_flops_per_thread = int64_t(1) << 18;
  int64_t threads = std::min<int64_t>(max_threads, std::max<int64_t>(1, 2 * M * N * K / min_flops_per_thread));
  const int64_t m_tiles = ceil_div(M, mr), n_tiles = ceil_div(N, nr);
  for (; threads > 1; --threads) {
    ThreadGrid best;
    double best_cost = 0;
    for (int64_t tm = 1; tm <= threads; ++tm) {
      if (threads % tm) continue;
      const int64_t tn = threads / tm;
      if (tm > m_tiles || tn > n_tiles) continue;
      const int64_t rows = ceil_div(m_tiles, tm) * mr, cols = ceil_div(n_tiles, tn) * nr;
      // Multiply-adds of the largest rectangle plus what its thread packs
      // (each thread packs its own rows of A and columns of B).
      const double cost = double(rows) * cols + 8.0 * (rows + cols);
      if (best.rows == 0 || cost < best_cost) {
        best = {tm, tn, rows, cols};
        best_cost = cost;
      }
    }
    if (best.rows) return best;
  }
  return {1, 1, round_up(M, mr), round_up(N, nr)};
}

template <class T>
void validate(const char* op, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
              int64_t ldb, int64_t ldc) {
  DC_CHECK(M >= 0 && N >= 0 && K >= 0, op << ": negative size M=" << M << " N=" << N << " K=" << K);
  const int64_t a_row = trans_a ? M : K, b_row = trans_b ? K : N;
  DC_CHECK(lda >= std::max<int64_t>(1, a_row),
           op << ": lda=" << lda << " is smaller than a row of A (" << a_row << ")");
  DC_CHECK(ldb >= std::max<int64_t>(1, b_row),
           op << ": ldb=" << ldb << " is smaller than a row of B (" << b_row << ")");
  DC_CHECK(ldc >= std::max<int64_t>(1, N), op << ": ldc=" << ldc << " is smaller than a row of C (" << N << ")");
}

// C at most this wide (or this short), with A read transposed and B not, goes through the kernel's no-packing path.
constexpr int64_t kNarrowN = 16;
// Rows of C per task of that path: its C^T scratch (kNarrowN x this) stays in L2.
constexpr int64_t kNarrowRows = 512;

// C's element (i, j) is C[i * rs + j * cs] (see NarrowTransAFn).
template <class T>
void narrow_trans_a(const KernelSpec<T>& ks, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t rs, int64_t cs, int max_threads) {
  // Threads only when each gets real work (about 0.25 MFLOP, as in plan_threads).
  const bool threaded = max_threads > 1 && 2 * M * N * K >= (int64_t(1) << 19);
  const int64_t rows_per_task =
      threaded ? std::min(kNarrowRows, (M + max_threads - 1) / max_threads + 15) / 16 * 16 : kNarrowRows;
  const int64_t tasks = (M + rows_per_task - 1) / rows_per_task;
  // One scratch block for all tasks, taken before any thread starts (a failed
  // allocation must throw here, not inside the parallel region).
  thread_local Workspace scratch;
  T* ct = scratch.get<T>(N * M);
  if (!ct) throw std::bad_alloc();
  auto run = [&](int64_t t) {
    const int64_t i0 = t * rows_per_task, rows = std::min(rows_per_task, M - i0);
    ks.narrow_trans_a(rows, N, K, alpha, A + i0, lda, B, ldb, beta, C + i0 * rs, rs, cs, ct + N * i0);
  };
  if (!threaded || tasks == 1) {
    for (int64_t t = 0; t < tasks; ++t) run(t);
    return;
  }
  parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) run(t);
  });
}

// C at most 16 wide with A not transposed (a classifier's forward pass): B is
// packed once into a 16-wide sliver and the kernel reads A's rows in place.
template <class T>
void narrow_direct_a(const KernelSpec<T>& ks, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                     View<T> B, T beta, T* C, int64_t ldc, int max_threads) {
  thread_local Workspace scratch;
  T* packed_b = scratch.get<T>(16 * K);
  if (!packed_b) throw std::bad_alloc();
  ks.pack_b(B.p, B.cs, B.rs, N, K, packed_b);
  const bool threaded = max_threads > 1 && 2 * M * N * K >= (int64_t(1) << 19);
  // Equal row blocks: the kernels cut exact edge tiles, so no multiple of the tile height is needed.
  const int64_t rows_per_task = threaded ? round_up(ceil_div(M, max_threads), 4) : M;
  const int64_t tasks = ceil_div(M, rows_per_task);
  auto run = [&](int64_t t) {
    const int64_t i0 = t * rows_per_task, rows = std::min(rows_per_task, M - i0);
    ks.narrow_direct_a(rows, N, K, alpha, A + i0 * lda, lda, packed_b, beta, C + i0 * ldc, ldc);
  };
  if (tasks == 1) {
    run(0);
    return;
  }
  parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) run(t);
  });
}

// Arguments already validated. max_threads == 1 keeps everything on the caller's thread.
template <class T>
void gemm_impl(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int max_threads) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    scale_rows(M, N, beta, C, ldc);
    return;
  }
  const KernelSpec<T> ks = kernel_for<T>(cpu_isa(), N);
  if (trans_a && !trans_b && N <= kNarrowN) {
    narrow_trans_a(ks, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, int64_t(1), max_threads);
    return;
  }
  if (trans_a && !trans_b && M <= kNarrowN) {
    // Short C (a classifier's weight gradient g^T @ x): C^T = B^T A is the narrow case with C written transposed.
    narrow_trans_a(kernel_for<T>(cpu_isa(), M), N, M, K, alpha, B, ldb, A, lda, beta, C, int64_t(1), ldc,
                   max_threads);
    return;
  }
  const View<T> a = trans_a ? View<T>{A, 1, lda} : View<T>{A, lda, 1};
  const View<T> b = trans_b ? View<T>{B, 1, ldb} : View<T>{B, ldb, 1};
  if (!trans_a && N <= kNarrowN && ks.narrow_direct_a && ks.nr == 16) {
    narrow_direct_a(ks, M, N, K, alpha, A, lda, b, beta, C, ldc, max_threads);
    return;
  }
  const ThreadGrid grid = plan_threads(M, N, K, ks.mr, ks.nr, max_threads);
  auto run_rect = [&](int64_t t) {
    const int64_t m0 = (t / grid.tn) * grid.rows, n0 = (t % grid.tn) * grid.cols;
    const int64_t m1 = std::min(M, m0 + grid.rows), n1 = std::min(N, n0 + grid.cols);
    if (m0 < m1 && n0 < n1) gemm_rect(ks, a, b, m0, m1, n0, n1, K, alpha, beta, C, ldc);
  };
  const int64_t rects = grid.tm * grid.tn;
  if (rects == 1) {
    run_rect(0);
    return;
  }
  parallel_for(rects, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) run_rect(t);
  });
}

// rows x cols matrix with strides (row_stride, col_stride), as a gemm operand.
MatrixLayout layout_of(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if ((cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= cols))
    return {true, false, rows == 1 ? std::max<int64_t>(cols, 1) : row_stride};
  if ((rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= rows))
    return {true, true, cols == 1 ? std::max<int64_t>(rows, 1) : col_stride};
  return {};
}

}  // namespace

MatrixLayout last_two_dims(const NDArray& x) {
  const int d = x.ndim();
  return layout_of(x.shape[d - 2], x.shape[d - 1], x.strides[d - 2], x.strides[d - 1]);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  validate<float>("gemm", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  gemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, get_num_threads());
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  validate<double>("gemm", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  gemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, get_num_threads());
}

void gemm_threads(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int max_threads) {
  gemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, max_threads);
}

void gemm_threads(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                  int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc, int max_threads) {
  gemm_impl(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, max_threads);
}

const char* gemm_kernel_name() { return kernel_for<float>(cpu_isa(), 1 << 20).name; }

}  // namespace deepcore::cpu
