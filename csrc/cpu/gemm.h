// General matrix multiply on the CPU: C = alpha * op(A) @ op(B) + beta * C.
// Row-major storage; op(X) is X or X^T. A transposed operand is handled by how
// it is packed, never by a transposed copy. Shared by matmul, linear and conv.
#pragma once
#include <cstdint>

#include "common/ndarray.h"

namespace deepcore::cpu {

// op(A) is M x K, op(B) is K x N, C is M x N. lda/ldb/ldc are the row strides
// of A, B, C as stored (A is K x M in memory when trans_a). beta == 0 means C
// is write-only (its old contents may be NaN and are ignored).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// gemm on at most max_threads threads (1: the caller's thread alone), for a
// caller that runs whole small products in parallel itself (batched matmul).
// The arguments are not checked: it may be called inside a parallel region,
// which no exception may leave.
void gemm_threads(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int max_threads);
void gemm_threads(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                  int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc, int max_threads);

// How a matrix (the last two dims of x) reaches the GEMM without a copy: rows
// contiguous (transposed = false) or columns contiguous (transposed = true),
// with its leading dimension; usable = false when neither holds.
struct MatrixLayout {
  bool usable = false;
  bool transposed = false;
  int64_t ld = 0;
};
MatrixLayout last_two_dims(const NDArray& x);

// Name of the float32 micro-kernel in use, e.g. "avx512 8x32" (for benchmarks and bug reports).
const char* gemm_kernel_name();

}  // namespace deepcore::cpu
