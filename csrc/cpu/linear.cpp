// Dense layer forward with the bias and ReLU fused around the GEMM: the output
// starts as the broadcast bias and the GEMM accumulates into it (beta = 1), so
// the bias costs no pass of its own; ReLU runs on each block of rows right
// after the GEMM, while the rows are still in cache. The backward pass is
// plain GEMMs and a column sum (python/deepcore/ops/linear.py).
#include "cpu/linear.h"

#include <cstring>

#include "common/parallel.h"
#include "cpu/gemm.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

NDArray linear_forward(const NDArray& x, const NDArray& w, const std::optional<NDArray>& b, bool relu) {
  const char* op = "linear";
  check_device(x, Device::CPU, op);
  check_device(w, Device::CPU, op);
  DC_CHECK(x.ndim() == 2 && w.ndim() == 2, op << ": expected a 2-D input and a 2-D weight, got " << describe(x)
                                              << " and " << describe(w));
  DC_CHECK_TYPE(x.dtype == w.dtype && (x.dtype == DType::Float32 || x.dtype == DType::Float64),
                op << ": input and weight must share a float dtype, got " << dtype_name(x.dtype) << " and "
                   << dtype_name(w.dtype));
  const int64_t M = x.shape[0], K = x.shape[1], N = w.shape[0];
  DC_CHECK(w.shape[1] == K, op << ": input of shape " << shape_str(x.shape) << " does not fit a weight of shape "
                               << shape_str(w.shape) << " (in_features " << w.shape[1] << ")");
  if (b) {
    check_device(*b, Device::CPU, op);
    DC_CHECK(b->ndim() == 1 && b->shape[0] == N, op << ": bias of shape " << shape_str(b->shape) << ", expected ("
                                                    << N << ",)");
    DC_CHECK_TYPE(b->dtype == x.dtype, op << ": bias is " << dtype_name(b->dtype) << " but the input is "
                                          << dtype_name(x.dtype));
  }
  NDArray out = empty({M, N}, x.dtype);
  if (M == 0 || N == 0) return out;
  // Operands neither row- nor column-contiguous are copied; the GEMM reads the rest in place.
  const NDArray xc = last_two_dims(x).usable ? x : contiguous(x), wc = last_two_dims(w).usable ? w : contiguous(w);
  const MatrixLayout lx = last_two_dims(xc), lw = last_two_dims(wc);
  const NDArray bias = b ? contiguous(*b) : NDArray();
  dispatch_float(x.dtype, op, [&]<class T>() {
    T* y = out.data<T>();
    if (b) {
      const T* pb = bias.data<T>();
      parallel_for(M, std::max<int64_t>(1, kElementwiseGrain / N), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) std::memcpy(y + r * N, pb, N * sizeof(T));
      });
    }
    // w is (N, K): the GEMM's B = w^T is w read transposed.
    gemm(lx.transposed, !lw.transposed, M, N, K, T(1), xc.data<T>(), lx.ld, wc.data<T>(), lw.ld, b ? T(1) : T(0),
         y, N);
    if (relu) {
      const auto& vk = vec::kernels<T>();
      parallel_for(M, std::max<int64_t>(1, kElementwiseGrain / N), [&](int64_t r0, int64_t r1) {
        vk.relu(y + r0 * N, y + r0 * N, (r1 - r0) * N);
      });
    }
  });
  return out;
}

}  // namespace deepcore::cpu
