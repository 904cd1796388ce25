// How the CUDA sources include the runtime and launch kernels, so that the same .cu files
// build with nvcc (deepcore._C_cuda) and with g++ against the launch emulator
// (deepcore._C_cuda_emu, csrc/cuda/emulator/, when DEEPCORE_CUDA_EMULATOR is defined).
//
//   DEEPCORE_LAUNCH(op, grid, block, kernel<T>)(args...);
//   DEEPCORE_LAUNCH_EX(op, grid, block, shared_bytes, stream, kernel<T>)(args...);
//
// launch kernel<T><<<grid, block[, shared_bytes, stream]>>>(args...) and then check for an error
// at once: a failed launch throws CudaError naming the op and the kernel, e.g.
// "cuda add: binary_contig_kernel<T, R, F>: CUDA error: invalid configuration argument". The
// kernel comes last so that template arguments with commas need no parentheses.
//
// A fault inside a kernel on a real GPU (an illegal address) is asynchronous: the runtime reports
// it at a later call, which then names its own op. With CUDA_LAUNCH_BLOCKING=1 in the environment
// every launch is followed by a device synchronize, so the faulting kernel itself is named. On the
// emulator every launch is synchronous, so its faults (a deadlocked barrier, an exception in a
// thread) are always reported by the launch that caused them.
#pragma once
#include <cstddef>
#include <utility>

#ifdef DEEPCORE_CUDA_EMULATOR
#include "cuda/emulator/emulator.h"
#else
#include <cuda_runtime.h>
#endif
#include "cuda/memory.h"

namespace deepcore::cuda::detail {

// Throws CudaError("<op>: <kernel>: CUDA error: ...") if the launch just made failed (memory.cu).
void check_launch(const char* op, const char* kernel);

template <class... Params>
struct Launch {
  const char* op;
  const char* kernel_name;
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
  void (*kernel)(Params...);

  template <class... Args>
  void operator()(Args&&... args) const {
#ifdef DEEPCORE_CUDA_EMULATOR
    ::deepcore::cuda_emu::run_kernel(grid, block, shared_bytes, kernel, std::forward<Args>(args)...);
#else
    kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
#endif
    check_launch(op, kernel_name);
  }
};

template <class... Params>
Launch<Params...> make_launch(const char* op, const char* kernel_name, dim3 grid, dim3 block, size_t shared_bytes,
                              cudaStream_t stream, void (*kernel)(Params...)) {
  return Launch<Params...>{op, kernel_name, grid, block, shared_bytes, stream, kernel};
}

}  // namespace deepcore::cuda::detail

#define DEEPCORE_LAUNCH(op, grid, block, ...) \
  ::deepcore::cuda::detail::make_launch((op), #__VA_ARGS__, (grid), (block), 0, nullptr, __VA_ARGS__)
#define DEEPCORE_LAUNCH_EX(op, grid, block, shared_bytes, stream, ...) \
  ::deepcore::cuda::detail::make_launch((op), #__VA_ARGS__, (grid), (block), (shared_bytes), (stream), __VA_ARGS__)
