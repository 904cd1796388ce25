// Tests of the launch emulator itself (bound on deepcore._C_cuda_emu only):
//   emulator_self_test_sum: a sum kernel that needs every feature the emulator models to give the
//     right answer: a grid-stride loop over several blocks, warp shuffles, __shared__ memory
//     across warps, __syncthreads, and atomicAdd across blocks;
//   emulator_self_test_fault: kernels with the bugs the emulator must report as a failed launch
//     (naming the kernel) instead of hanging or computing garbage.
#include <stdexcept>
#include <string>

#include "common/ndarray.h"
#include "cuda/launch.h"
#include "cuda/memory.h"

namespace deepcore::cuda_emu {

namespace {

constexpr int kBlock = 256;  // 8 full warps

__global__ void block_sum_kernel(const float* x, int64_t n, float* total) {
  __shared__ float warp_sums[kBlock / 32];
  float v = 0.0f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x)
    v += x[i];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();  // every warp's partial sum is in shared memory before warp 0 reads them
  if (warp == 0) {
    v = lane < kBlock / 32 ? warp_sums[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0) atomicAdd(total, v);
  }
}

enum Fault { kDeadlock = 1, kExitedLane = 2, kLaneNotInMask = 3 };

__global__ void fault_kernel(int fault, float* out) {
  const int lane = threadIdx.x % 32;
  float v = static_cast<float>(threadIdx.x);
  if (fault == kDeadlock) {
    // Half the warp waits for the block, the other half for the whole warp: neither can go on.
    if (lane < 16)
      __syncthreads();
    else
      __syncwarp();
  } else if (fault == kExitedLane) {
    if (lane >= 16) return;  // the full mask below still names these lanes
    v = __shfl_down_sync(0xffffffffu, v, 1);
  } else if (fault == kLaneNotInMask) {
    v = __shfl_sync(0x1u, v, 0);  // every lane calls it, but the mask names lane 0 only
  }
  out[threadIdx.x] = v;
}

}  // namespace

double self_test_block_sum(const NDArray& a) {
  const char* op = "emulator_self_test_sum";
  cuda::detail::require_cuda(a, op);
  DC_CHECK_TYPE(a.dtype == DType::Float32, op << ": expected float32, got " << dtype_name(a.dtype));
  DC_CHECK(a.is_contiguous(), op << ": expected a contiguous array");
  const int64_t n = a.numel();
  NDArray total = cuda::full({1}, 0.0, DType::Float32, 0);
  // A few blocks more than needed, so that some blocks find no element and add 0.
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(7, (n + kBlock - 1) / kBlock + 1));
  DEEPCORE_LAUNCH(op, blocks, kBlock, block_sum_kernel)(a.data<float>(), n, total.data<float>());
  float result = 0.0f;
  cudaMemcpy(&result, total.data<float>(), sizeof(float), cudaMemcpyDeviceToHost);
  return result;
}

void self_test_fault(const std::string& kind) {
  const char* op = "emulator_self_test_fault";
  NDArray out = cuda::empty({1024}, DType::Float32, 0);
  if (kind == "config") {  // 2048 threads per block: more than any device allows
    DEEPCORE_LAUNCH(op, 1, 2048, fault_kernel)(0, out.data<float>());
    return;
  }
  const int fault = kind == "deadlock" ? kDeadlock : kind == "exited_lane" ? kExitedLane
                  : kind == "lane_not_in_mask" ? kLaneNotInMask : 0;
  DC_CHECK(fault != 0, op << ": unknown fault '" << kind
                          << "' (expected config, deadlock, exited_lane or lane_not_in_mask)");
  DEEPCORE_LAUNCH(op, 2, 64, fault_kernel)(fault, out.data<float>());
}

}  // namespace deepcore::cuda_emu
