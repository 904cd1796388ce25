// The CUDA launch emulator: lets the same .cu sources compile with g++ as host C++ and run
// on the CPU, so that the CUDA kernels are tested on machines without a GPU
// (deepcore._C_cuda_emu; DEEPCORE_CUDA_EMULATOR=1 selects it from Python).
//
// What it models (and what it does not):
//   * A launch runs the whole grid before returning (a valid serialization of the default
//     stream). Blocks are spread over a few CPU threads (DEEPCORE_CUDA_EMULATOR_THREADS, default
//     min(4, cores)); the threads of one block are cooperative fibers on one CPU thread, so
//     __syncthreads, __shared__ memory (one copy per CPU thread, one block at a time on it) and
//     warp shuffles behave as on the device. A __syncthreads that not every live thread reaches
//     is reported as a launch failure instead of hanging.
//   * Warps are 32 consecutive linear thread ids. A shuffle or __syncwarp waits for every lane its
//     mask names; a mask naming a lane that has returned (or that the block lacks), or a caller
//     outside its own mask, fails the launch (undefined behaviour on the device).
//   * Atomics are real atomics (blocks run concurrently on several CPU threads).
//   * Device memory is host memory (cudaMalloc = aligned_alloc); one device, index 0.
//   * Not modelled: dynamic (extern) shared memory, memory-access races inside a warp, timing,
//     sticky errors (cudaGetLastError returns and clears, as for a configuration error).
// It is a test tool, not a second backend: it is slow (a context switch per thread per barrier).
#pragma once
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- the CUDA C++ keywords -------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
// One copy per CPU thread: a CPU thread runs one block at a time, so its fibers share it.
#define __shared__ static thread_local

// ---- vector types and the runtime's types --------------------------------------------------
struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorCudartUnloading = 4,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int multiProcessorCount;
  int warpSize;
  int maxThreadsPerBlock;
  int major, minor;
};
constexpr int warpSize = 32;

// ---- the runtime API (as far as csrc/cuda uses it; emulator.cpp) ------------------------------
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t err);
const char* cudaGetErrorName(cudaError_t err);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = 0);
// Launches run synchronously, so streams and events only have to exist.
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

namespace deepcore::cuda_emu {

// The built-in variables of the fiber that is running on this CPU thread.
struct ThreadVars {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
  int lane;  // linear thread id % 32
};
extern thread_local const ThreadVars* t_vars;

void sync_block();                                       // __syncthreads
void sync_warp(unsigned mask, const char* what);         // __syncwarp and the shuffles' barrier
uint64_t warp_exchange(unsigned mask, uint64_t bits, int src_lane, const char* what);

// Runs body() once per thread of the grid; a bad configuration sets the last error.
void run_grid(dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& body);

// Runs kernel(args...) once per thread of the grid (csrc/cuda/launch.h calls it). Each thread
// gets its own copy of the parameters, as on the device.
template <class... Params, class... Args>
void run_kernel(dim3 grid, dim3 block, size_t shared_bytes, void (*kernel)(Params...), Args&&... args) {
  const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  run_grid(grid, block, shared_bytes, [&params, kernel] {
    auto mine = params;
    std::apply(kernel, mine);
  });
}

template <class T>
T shuffle(unsigned mask, T v, int src_lane, const char* what) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move values of up to 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_exchange(mask, bits, src_lane, what);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

}  // namespace deepcore::cuda_emu

// ---- built-in variables, barriers and warp functions ---------------------------------------------
#define threadIdx (::deepcore::cuda_emu::t_vars->thread_idx)
#define blockIdx (::deepcore::cuda_emu::t_vars->block_idx)
#define blockDim (::deepcore::cuda_emu::t_vars->block_dim)
#define gridDim (::deepcore::cuda_emu::t_vars->grid_dim)

inline void __syncthreads() { ::deepcore::cuda_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::deepcore::cuda_emu::sync_warp(mask, "__syncwarp"); }

// Lanes are split into segments of `width` (a power of two <= 32); a source outside the
// segment gives the caller its own value, as on the device.
template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  const int lane = ::deepcore::cuda_emu::t_vars->lane, base = lane & ~(width - 1);
  return ::deepcore::cuda_emu::shuffle(mask, v, base + (src_lane & (width - 1)), "__shfl_sync");
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ::deepcore::cuda_emu::t_vars->lane, base = lane & ~(width - 1);
  const int in_segment = (lane - base) + static_cast<int>(delta);
  return ::deepcore::cuda_emu::shuffle(mask, v, in_segment < width ? base + in_segment : lane, "__shfl_down_sync");
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ::deepcore::cuda_emu::t_vars->lane, base = lane & ~(width - 1);
  const int in_segment = (lane - base) - static_cast<int>(delta);
  return ::deepcore::cuda_emu::shuffle(mask, v, in_segment >= 0 ? base + in_segment : lane, "__shfl_up_sync");
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const int lane = ::deepcore::cuda_emu::t_vars->lane, base = lane & ~(width - 1);
  const int src = lane ^ lane_mask;
  return ::deepcore::cuda_emu::shuffle(mask, v, src < base + width ? src : lane, "__shfl_xor_sync");
}

// ---- atomics (C++20 atomic_ref: blocks run concurrently on several CPU threads) ---------------------
template <class T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}
template <class T>
T atomicExch(T* address, T value) {
  return std::atomic_ref<T>(*address).exchange(value);
}
template <class T>
T atomicCAS(T* address, T expected, T desired) {
  std::atomic_ref<T>(*address).compare_exchange_strong(expected, desired);
  return expected;  // the old value, whether or not the swap happened
}
template <class T>
T atomicMax(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (old < value && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}
template <class T>
T atomicMin(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (value < old && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}

// ---- device math that the host C library lacks ---------------------------------------------------------
double erfinv(double y);
float erfinvf(float y);
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline int __float_as_int(float f) {
  int v;
  std::memcpy(&v, &f, 4);
  return v;
}
