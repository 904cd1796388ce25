// Portable micro-kernels: plain C++ that the compiler vectorizes with whatever
// the baseline target offers (SSE2 on x86-64, NEON on arm64).
#include "cpu/gemm_kernels.h"

namespace deepcore::cpu::gemm_detail {
namespace {

template <class T, int MR, int NR>
void kernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int m, int n, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
    a += MR;
    b += NR;
  }
  for (int i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == 0) {
      for (int j = 0; j < n; ++j) row[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < n; ++j) row[j] = alpha * acc[i][j] + beta * row[j];
    }
  }
}

}  // namespace

// 4 x 8 fits the 16 registers of SSE2/NEON: 8 accumulator vectors of 4 floats.
KernelSpec<float> portable_kernel_f32(int64_t /*n*/) {
  return {"portable 4x8", 4, 8, 256, 128, 2048, &kernel<float, 4, 8>, &pack_slivers_generic<float, 4>,
          &pack_slivers_generic<float, 8>, &narrow_trans_a_generic<float>};
}

KernelSpec<double> portable_kernel_f64(int64_t /*n*/) {
  return {"portable 4x4 f64", 4, 4, 256, 128, 2048, &kernel<double, 4, 4>, &pack_slivers_generic<double, 4>,
          &pack_slivers_generic<double, 4>, &narrow_trans_a_generic<double>};
}

}  // namespace deepcore::cpu::gemm_detail
