// Warp- and block-wide reductions for the CUDA kernels (reduce.cu, activation.cu, loss.cu):
// warp shuffles inside each warp, then one partial per warp through shared memory, then the
// first warp reduces the partials. No identity element is needed: a lane only combines a value
// that exists, so the same code serves sum, max-with-NaN and (value, index) pairs.
//
// Requirements, checked by the emulator: blockDim.x is a multiple of 32 (full warps: every lane
// a full-mask shuffle names exists), at most 1024, and every thread of the block calls the
// function (it holds a __syncthreads).
#pragma once
#include <cstdint>

#ifdef DEEPCORE_CUDA_EMULATOR
#include "cuda/emulator/emulator.h"
#endif

namespace deepcore::cuda::detail {

// A value and where it was found, for argmax/argmin.
template <class T>
struct ValueIndex {
  T value;
  int64_t index;
};

template <class T>
__device__ __forceinline__ T shfl_down(T v, int delta) {
  return __shfl_down_sync(0xffffffffu, v, delta);
}
template <class T>
__device__ __forceinline__ ValueIndex<T> shfl_down(ValueIndex<T> v, int delta) {
  return {__shfl_down_sync(0xffffffffu, v.value, delta), __shfl_down_sync(0xffffffffu, v.index, delta)};
}

// The combination of the first `count` lanes' values lands in lane 0 (count <= 32).
template <class T, class Combine>
__device__ __forceinline__ T warp_reduce(T v, int count, Combine combine) {
  const int lane = threadIdx.x & 31;
  for (int delta = 16; delta > 0; delta >>= 1) {
    const T other = shfl_down(v, delta);
    if (lane + delta < count) v = combine(v, other);
  }
  return v;
}

// The combination of every thread's value, valid in thread 0. Ends with a __syncthreads so that
// a kernel may call it again (the next output of a grid-stride loop) right away.
template <class T, class Combine>
__device__ T block_reduce(T v, Combine combine) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_reduce(v, 32, combine);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = partial[lane < warps ? lane : 0];
    v = warp_reduce(v, warps, combine);
  }
  __syncthreads();
  return v;
}

// As block_reduce, but every thread gets the result (softmax needs the row's max in every thread).
template <class T, class Combine>
__device__ T block_all_reduce(T v, Combine combine) {
  __shared__ T result;
  v = block_reduce(v, combine);
  if (threadIdx.x == 0) result = v;
  __syncthreads();
  v = result;
  __syncthreads();  // everyone has read it before a next call overwrites it
  return v;
}

// Threads per block for reducing `n` elements per output: whole warps, no more than needed.
inline unsigned threads_for_reduction(int64_t n, unsigned cap = 256) {
  int64_t t = (n + 31) / 32 * 32;
  if (t < 32) t = 32;
  return static_cast<unsigned>(t < cap ? t : cap);
}

}  // namespace deepcore::cuda::detail
