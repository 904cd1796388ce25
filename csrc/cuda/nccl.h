// NCCL collectives on CUDA arrays, for deepcore.distributed's "nccl" backend.
//
// NCCL is not linked: libnccl.so.2 (the nvidia-nccl-cu13 wheel, or a system copy) is opened with
// dlopen at the first call, and the few functions used are looked up by name. So deepcore._C_cuda
// builds and imports without NCCL, and a missing library is a clear Python error, not a failed import.
// The declarations below follow nccl.h's C ABI (ncclUniqueId is 128 bytes; the enums' values).
// Plain C++: the bindings (host compiler) include it.
#pragma once
#include <cstdint>
#include <string>

#include "common/ndarray.h"

namespace deepcore::cuda::nccl {

constexpr int kUniqueIdBytes = 128;
enum class ReduceOp : int { Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4 };  // ncclRedOp_t's values

// Where the library was found ("" when it was not), and why not.
bool available(std::string* where_or_why);

std::string unique_id();  // kUniqueIdBytes bytes, made on one rank and shared (over MPI) with the rest

// A communicator of `world` ranks for device `device_index`; an opaque handle.
std::intptr_t init_rank(int world, int rank, const std::string& id, int device_index);
void destroy(std::intptr_t comm);

// Each runs on the array's device's legacy default stream, ordered with deepcore's kernels, and waits for it.
void all_reduce(std::intptr_t comm, const NDArray& a, ReduceOp op);
void broadcast(std::intptr_t comm, const NDArray& a, int root);
void all_gather(std::intptr_t comm, const NDArray& input, const NDArray& output);
void reduce_scatter(std::intptr_t comm, const NDArray& input, const NDArray& output, ReduceOp op);

}  // namespace deepcore::cuda::nccl
