// Allocation, host<->device copies and dtype casts on CUDA devices.
//
// This header is plain C++ (no CUDA headers) so that the pybind11 bindings can
// be compiled by the host compiler; the part under `#if defined(__CUDACC__) || ...` is
// only seen by the kernels' sources (nvcc, or g++ with the launch emulator) and holds
// the strided-indexing helper the kernels share.
//
// Every operation runs on the legacy default stream of the device that holds
// its operands, so operations are ordered with respect to each other and a
// freed buffer can be reused by the next operation without synchronising.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/ndarray.h"
#ifdef DEEPCORE_CUDA_EMULATOR
#include "cuda/emulator/emulator.h"  // __host__, __device__, __forceinline__ for the part below
#endif

namespace deepcore::cuda {

// A failed CUDA runtime call or kernel launch; the bindings turn it into
// RuntimeError. The message names the op and holds cudaGetErrorString.
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Number of CUDA devices; 0 (never an exception) when there is no driver or GPU.
int device_count();
// Waits for all work queued on every device.
void synchronize();
// The device's name, e.g. "NVIDIA H100 80GB HBM3"; ValueError for a bad index.
std::string device_name(int index);

NDArray empty(const Shape& shape, DType dtype, int device_index = 0);  // uninitialised, contiguous
NDArray full(const Shape& shape, double value, DType dtype, int device_index = 0);
NDArray to_device(const NDArray& cpu_array, int device_index = 0);  // contiguous copy on the GPU
NDArray to_host(const NDArray& gpu_array);  // contiguous CPU copy, 64-byte aligned
NDArray contiguous(const NDArray& a);       // `a` itself when already contiguous
void copy_(const NDArray& dst, const NDArray& src);  // broadcasts src to dst's shape, casts dtype
NDArray cast(const NDArray& a, DType dtype);          // a new contiguous array

// Returns the cached (freed but not yet cudaFree'd) blocks to the driver.
// Set DEEPCORE_CUDA_CACHING=0 in the environment to disable the cache.
void empty_cache();
// torch.cuda's counters for device `device_index`: bytes of the blocks live arrays hold (sizes rounded
// as allocated), their peak since the start or the last reset, and those plus the idle cache.
int64_t memory_allocated(int device_index);
int64_t max_memory_allocated(int device_index);
int64_t memory_reserved(int device_index);
void reset_peak_memory_stats(int device_index);

namespace detail {

constexpr int kMaxDims = 8;

// Selects device `index` for the lifetime of the guard and restores the
// previous one afterwards. Throws ValueError for an index out of range and
// CudaError (RuntimeError) when there is no usable device.
class DeviceGuard {
 public:
  DeviceGuard(int index, const char* op);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;
  int index_ = 0;
};

// Kernel launches and their error check (check_launch): csrc/cuda/launch.h.

// Throws ValueError unless `a` lives on a CUDA device.
void require_cuda(const NDArray& a, const char* op);
// Throws ValueError unless all arrays are on the same CUDA device.
void require_same_device(const NDArray& a, const NDArray& b, const char* op);

// Overlap between written and read arrays: common/overlap.h, shared with the CPU kernels.

// Shape and per-operand strides (in elements) with size-1 dimensions removed
// and adjacent dimensions merged where every operand allows it. Always has at
// least one dimension.
template <int N>
struct Collapsed {
  int ndim = 0;
  int64_t shape[32];
  int64_t strides[N][32];
};

// Collapses `shape` with the N stride arrays (each of shape.size()); throws
// ValueError naming `op` when more than kMaxDims dimensions remain.
template <int N>
Collapsed<N> collapse(const Shape& shape, const Shape* const strides[N], const char* op) {
  DC_CHECK(shape.size() <= 32, op << ": at most 32 dimensions are supported, got " << shape.size());
  Collapsed<N> c;
  // Keep dimensions of size != 1, outermost first.
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    c.shape[c.ndim] = shape[d];
    for (int k = 0; k < N; ++k) c.strides[k][c.ndim] = (*strides[k])[d];
    ++c.ndim;
  }
  if (c.ndim == 0) {
    c.ndim = 1;
    c.shape[0] = 1;
    for (int k = 0; k < N; ++k) c.strides[k][0] = 0;
    return c;
  }
  // Merge dimension i into i+1 (i outer) when, for every operand, stepping
  // once along i equals stepping shape[i+1] times along i+1.
  int w = c.ndim - 1;  // write position, from the innermost dimension outward
  for (int r = c.ndim - 2; r >= 0; --r) {
    bool can = true;
    for (int k = 0; k < N; ++k)
      if (c.strides[k][r] != c.shape[w] * c.strides[k][w]) can = false;
    if (can) {
      c.shape[w] *= c.shape[r];
    } else {
      --w;
      c.shape[w] = c.shape[r];
      for (int k = 0; k < N; ++k) c.strides[k][w] = c.strides[k][r];
    }
  }
  // Shift the result to start at index 0.
  int n = c.ndim - w;
  for (int i = 0; i < n; ++i) {
    c.shape[i] = c.shape[w + i];
    for (int k = 0; k < N; ++k) c.strides[k][i] = c.strides[k][w + i];
  }
  c.ndim = n;
  DC_CHECK(c.ndim <= kMaxDims, op << ": views with more than " << kMaxDims
                                  << " non-mergeable dimensions are not supported (got " << c.ndim << ")");
  return c;
}

}  // namespace detail

#if defined(__CUDACC__) || defined(DEEPCORE_CUDA_EMULATOR)
#ifdef __CUDA_ARCH__
#define DC_UNROLL _Pragma("unroll")
#else
#define DC_UNROLL
#endif
namespace detail {

// Maps a linear index over a collapsed shape to an element offset for each of
// N operands. Passed to kernels by value (about 0.3 KB for N = 3). Index is
// uint32_t when the number of elements allows, int64_t otherwise.
template <int N>
struct Indexer {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];

  explicit Indexer(const Collapsed<N>& c) : ndim(c.ndim) {
    for (int d = 0; d < kMaxDims; ++d) {
      shape[d] = d < c.ndim ? c.shape[d] : 1;
      for (int k = 0; k < N; ++k) strides[k][d] = d < c.ndim ? c.strides[k][d] : 0;
    }
  }

  template <class I>
  __host__ __device__ __forceinline__ void offsets(I linear, int64_t (&off)[N]) const {
DC_UNROLL
    for (int k = 0; k < N; ++k) off[k] = 0;
DC_UNROLL
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d < ndim) {
        I len = static_cast<I>(shape[d]);
        I q = linear / len;
        I i = linear - q * len;
        linear = q;
DC_UNROLL
        for (int k = 0; k < N; ++k) off[k] += static_cast<int64_t>(i) * strides[k][d];
      }
    }
  }
};

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements (n > 0).
inline unsigned int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  const int64_t cap = int64_t(1) << 16;
  return static_cast<unsigned int>(blocks < cap ? blocks : cap);
}

}  // namespace detail
#endif  // __CUDACC__ || DEEPCORE_CUDA_EMULATOR

}  // namespace deepcore::cuda
