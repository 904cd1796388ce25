// matmul on NDArrays: NumPy's batch broadcasting, then one GEMM per product.
// Transposed views reach the GEMM as strides; only operands whose last two
// dims are neither row- nor column-contiguous are copied first.
#include "cpu/matmul.h"

#include <algorithm>

#include "common/parallel.h"
#include "cpu/gemm.h"
#include "cpu/memory.h"

namespace deepcore::cpu {
namespace {

// Strides of x's batch dimensions (all but the last two) broadcast to `batch`.
Shape batch_strides(const NDArray& x, const Shape& batch) {
  Shape st(batch.size(), 0);
  const size_t nx = x.shape.size() - 2, lead = batch.size() - nx;
  for (size_t i = 0; i < nx; ++i) st[lead + i] = x.shape[i] == 1 ? 0 : x.strides[i];
  return st;
}

template <class T>
void batched_matmul(const NDArray& a, const NDArray& b, const NDArray& out, const Shape& batch) {
  const MatrixLayout la = last_two_dims(a), lb = last_two_dims(b);
  const int da = a.ndim(), db = b.ndim();
  const int64_t M = a.shape[da - 2], K = a.shape[da - 1], N = b.shape[db - 1];
  const Shape a_strides = batch_strides(a, batch), b_strides = batch_strides(b, batch);
  const int64_t batches = numel_of(batch);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pc = out.data<T>();

  auto one = [&](int64_t index, int max_threads) {
    int64_t off_a = 0, off_b = 0, rest = index;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t i = rest % batch[d];
      rest /= batch[d];
      off_a += i * a_strides[d];
      off_b += i * b_strides[d];
    }
    gemm_threads(la.transposed, lb.transposed, M, N, K, T(1), pa + off_a, la.ld, pb + off_b, lb.ld, T(0),
                 pc + index * M * N, N, max_threads);
  };
  // Many small products: one whole product per thread beats splitting each one.
  const int threads = get_num_threads();
  if (batches >= threads && 2 * M * N * K < (int64_t(1) << 22)) {
    parallel_for(batches, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) one(i, 1);
    });
  } else {
    for (int64_t i = 0; i < batches; ++i) one(i, threads);
  }
}

}  // namespace

NDArray matmul(const NDArray& a, const NDArray& b) {
  check_device(a, Device::CPU, "matmul");
  check_device(b, Device::CPU, "matmul");
  DC_CHECK(a.ndim() >= 2 && b.ndim() >= 2, "matmul: expected arrays with at least 2 dimensions, got shapes "
                                               << shape_str(a.shape) << " and " << shape_str(b.shape));
  DC_CHECK(a.dtype == b.dtype && (a.dtype == DType::Float32 || a.dtype == DType::Float64),
           "matmul: expected two float32 or two float64 arrays, got " << dtype_name(a.dtype) << " and "
                                                                      << dtype_name(b.dtype));
  const int da = a.ndim(), db = b.ndim();
  const int64_t M = a.shape[da - 2], K = a.shape[da - 1], Kb = b.shape[db - 2], N = b.shape[db - 1];
  DC_CHECK(K == Kb, "matmul: shapes " << shape_str(a.shape) << " and " << shape_str(b.shape)
                                      << " are not aligned: " << K << " (dim " << da - 1 << " of a) != " << Kb
                                      << " (dim " << db - 2 << " of b)");

  // Batch dimensions broadcast with NumPy rules.
  const Shape batch_a(a.shape.begin(), a.shape.end() - 2), batch_b(b.shape.begin(), b.shape.end() - 2);
  const size_t nb = std::max(batch_a.size(), batch_b.size());
  Shape batch(nb);
  for (size_t i = 0; i < nb; ++i) {
    const int64_t x = i < nb - batch_a.size() ? 1 : batch_a[i - (nb - batch_a.size())];
    const int64_t y = i < nb - batch_b.size() ? 1 : batch_b[i - (nb - batch_b.size())];
    DC_CHECK(x == y || x == 1 || y == 1, "matmul: shapes " << shape_str(a.shape) << " and " << shape_str(b.shape)
                                                           << " have batch dimensions that cannot be broadcast ("
                                                           << x << " vs " << y << ")");
    batch[i] = x == 1 ? y : x;
  }
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  NDArray out = empty(out_shape, a.dtype);
  if (out.numel() == 0) return out;

  // Operands whose last two dims are neither row- nor column-contiguous are copied.
  const NDArray ca = last_two_dims(a).usable ? a : contiguous(a);
  const NDArray cb = last_two_dims(b).usable ? b : contiguous(b);
  if (a.dtype == DType::Float32)
    batched_matmul<float>(ca, cb, out, batch);
  else
    batched_matmul<double>(ca, cb, out, batch);
  return out;
}

}  // namespace deepcore::cpu
