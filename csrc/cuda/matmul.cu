// matmul on CUDA arrays: NumPy's batch broadcasting, then a tiled shared-memory GEMM. The CUDA
// twin of csrc/cpu/matmul.cpp.
//
// Each block computes a kTileM x kTileN tile of C = A B: per step along K it stages a
// kTileM x kTileK slice of A and a kTileK x kTileN slice of B in shared memory (zero-padded at
// the matrix edges), and each of its 256 threads accumulates a kRegM x kRegN block of the tile
// in registers (register blocking: every shared value loaded is used kRegN or kRegM times).
// Operands are read through their strides, so transposed views (the backward pass's A^T g and
// g B^T) cost no copy. Not tuned yet: no vectorized loads, no double buffering, and the speed
// against cuBLAS has not been measured (no GPU has run it).
#include "cuda/matmul.h"

#include <algorithm>
#include <vector>

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int kRegM = 4, kRegN = 4;
constexpr int kThreadsN = kTileN / kRegN, kThreadsM = kTileM / kRegM;  // 16 x 16 = 256 threads
constexpr int kGemmThreads = kThreadsM * kThreadsN;
constexpr unsigned kMaxGridYZ = 65535;

// ---- kernel ---------------------------------------------------------------------------------

// C[z] (M x N, contiguous) = A[z] (M x K) B[z] (K x N); A[z](i, k) = A[offsets[2z] + i*a_rs + k*a_cs],
// likewise B with offsets[2z + 1]. Grid: x over column tiles; y over row tiles and z over the
// batch, each with a grid-stride loop.
template <class T>
__global__ void __launch_bounds__(kGemmThreads)
    gemm_kernel(const T* A, const T* B, T* C, int64_t M, int64_t N, int64_t K, int64_t a_rs, int64_t a_cs,
                int64_t b_rs, int64_t b_cs, const int64_t* offsets, int64_t batches) {
  // A's slice is stored transposed (k major) so that a thread's kRegM values of one k are adjacent;
  // +1 column of padding keeps the transposing store free of bank conflicts.
  __shared__ T As[kTileK][kTileM + 1];
  __shared__ T Bs[kTileK][kTileN];
  const int tn = threadIdx.x % kThreadsN, tm = threadIdx.x / kThreadsN;
  const int64_t row_tiles = (M + kTileM - 1) / kTileM;
  for (int64_t z = blockIdx.z; z < batches; z += gridDim.z) {
    const T* a = A + offsets[2 * z];
    const T* b = B + offsets[2 * z + 1];
    T* c = C + z * M * N;
    for (int64_t tile_m = blockIdx.y; tile_m < row_tiles; tile_m += gridDim.y) {
      const int64_t m0 = tile_m * kTileM, n0 = int64_t(blockIdx.x) * kTileN;
      T acc[kRegM][kRegN];
      for (int i = 0; i < kRegM; ++i)
        for (int j = 0; j < kRegN; ++j) acc[i][j] = T(0);
      for (int64_t k0 = 0; k0 < K; k0 += kTileK) {
        for (int e = threadIdx.x; e < kTileM * kTileK; e += kGemmThreads) {
          const int mm = e / kTileK, kk = e % kTileK;
          const int64_t gm = m0 + mm, gk = k0 + kk;
          As[kk][mm] = gm < M && gk < K ? a[gm * a_rs + gk * a_cs] : T(0);
        }
        for (int e = threadIdx.x; e < kTileK * kTileN; e += kGemmThreads) {
          const int kk = e / kTileN, nn = e % kTileN;
          const int64_t gk = k0 + kk, gn = n0 + nn;
          Bs[kk][nn] = gk < K && gn < N ? b[gk * b_rs + gn * b_cs] : T(0);
        }
        __syncthreads();  // the slices are complete before anyone reads them
        for (int kk = 0; kk < kTileK; ++kk) {
          T ra[kRegM], rb[kRegN];
          // Rows tm, tm + 16, ... and columns tn, tn + 16, ...: neighbouring threads read
          // neighbouring shared words, and store neighbouring output columns.
          for (int i = 0; i < kRegM; ++i) ra[i] = As[kk][tm + i * kThreadsM];
          for (int j = 0; j < kRegN; ++j) rb[j] = Bs[kk][tn + j * kThreadsN];
          for (int i = 0; i < kRegM; ++i)
            for (int j = 0; j < kRegN; ++j) acc[i][j] += ra[i] * rb[j];
        }
        __syncthreads();  // everyone is done with the slices before the next step overwrites them
      }
      for (int i = 0; i < kRegM; ++i) {
        const int64_t gm = m0 + tm + i * kThreadsM;
        if (gm >= M) continue;
        for (int j = 0; j < kRegN; ++j) {
          const int64_t gn = n0 + tn + j * kThreadsN;
          if (gn < N) c[gm * N + gn] = acc[i][j];
        }
      }
    }
  }
}

// ---- launcher -------------------------------------------------------------------------------

// Strides of x's batch dimensions (all but the last two) broadcast to `batch`.
Shape batch_strides(const NDArray& x, const Shape& batch) {
  Shape st(batch.size(), 0);
  const size_t nx = x.shape.size() - 2, lead = batch.size() - nx;
  for (size_t i = 0; i < nx; ++i) st[lead + i] = x.shape[i] == 1 ? 0 : x.strides[i];
  return st;
}

}  // namespace

NDArray matmul(const NDArray& a, const NDArray& b) {
  const char* op = "matmul";
  detail::require_cuda(a, op);
  detail::require_cuda(b, op);
  detail::require_same_device(a, b, op);
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
  const int dev = a.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out = empty(out_shape, a.dtype, dev);
  if (out.numel() == 0) return out;

  // Each product's element offsets of A and B, computed once here and read by the kernel.
  const int64_t batches = numel_of(batch);
  const Shape sa = batch_strides(a, batch), sb = batch_strides(b, batch);
  std::vector<int64_t> host_offsets(2 * batches);
  for (int64_t z = 0; z < batches; ++z) {
    int64_t off_a = 0, off_b = 0, rest = z;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t i = rest % batch[d];
      rest /= batch[d];
      off_a += i * sa[d];
      off_b += i * sb[d];
    }
    host_offsets[2 * z] = off_a;
    host_offsets[2 * z + 1] = off_b;
  }
  NDArray offsets = empty({2 * batches}, DType::Int64, dev);
  if (cudaMemcpy(offsets.raw(), host_offsets.data(), host_offsets.size() * sizeof(int64_t), cudaMemcpyHostToDevice) !=
      cudaSuccess) {
    (void)cudaGetLastError();
    throw CudaError("matmul: copying the batch offsets to the device failed");
  }
  const int64_t col_tiles = (N + kTileN - 1) / kTileN, row_tiles = (M + kTileM - 1) / kTileM;
  DC_CHECK(col_tiles <= 0x7fffffff, "matmul: " << N << " columns are more than one launch can cover");
  const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(std::min<int64_t>(row_tiles, kMaxGridYZ)),
                  static_cast<unsigned>(std::min<int64_t>(batches, kMaxGridYZ)));
  auto run = [&](auto tag) {
    using T = decltype(tag);
    DEEPCORE_LAUNCH(op, grid, kGemmThreads, gemm_kernel<T>)(a.data<T>(), b.data<T>(), out.data<T>(), M, N, K,
                                                           a.strides[da - 2], a.strides[da - 1], b.strides[db - 2],
                                                           b.strides[db - 1], offsets.data<int64_t>(), batches);
  };
  if (a.dtype == DType::Float32)
    run(float{});
  else
    run(double{});
  return out;
}

}  // namespace deepcore::cuda
