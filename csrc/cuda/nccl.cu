// NCCL collectives on CUDA arrays, NCCL loaded at run time (see nccl.h for why).
#include "cuda/nccl.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

#include "cuda/memory.h"

namespace deepcore::cuda::nccl {
namespace {

// nccl.h's C ABI: the handful of declarations deepcore needs.
struct UniqueId {
  char internal[kUniqueIdBytes];
};
using Comm = void*;      // ncclComm_t
using Result = int;      // ncclResult_t: 0 is ncclSuccess
enum DataType : int { kInt8 = 0, kUint8 = 1, kInt32 = 2, kUint32 = 3, kInt64 = 4, kUint64 = 5,
                      kFloat16 = 6, kFloat32 = 7, kFloat64 = 8 };

struct Library {
  void* handle = nullptr;
  std::string where, why;
  Result (*get_unique_id)(UniqueId*) = nullptr;
  Result (*comm_init_rank)(Comm*, int, UniqueId, int) = nullptr;
  Result (*comm_destroy)(Comm) = nullptr;
  Result (*all_reduce)(const void*, void*, size_t, int, int, Comm, cudaStream_t) = nullptr;
  Result (*broadcast)(const void*, void*, size_t, int, int, Comm, cudaStream_t) = nullptr;
  Result (*all_gather)(const void*, void*, size_t, int, Comm, cudaStream_t) = nullptr;
  Result (*reduce_scatter)(const void*, void*, size_t, int, int, Comm, cudaStream_t) = nullptr;
  const char* (*error_string)(Result) = nullptr;
};

template <class F>
bool find(void* handle, const char* name, F* fn) {
  *fn = reinterpret_cast<F>(dlsym(handle, name));
  return *fn != nullptr;
}

Library& library() {
  static Library lib;
  static std::once_flag once;
  std::call_once(once, [] {
    // DEEPCORE_NCCL_LIBRARY names the file; otherwise the dynamic loader's search (LD_LIBRARY_PATH,
    // where deepcore.distributed adds the nvidia-nccl wheel's lib folder).
    std::vector<std::string> names;
    if (const char* env = std::getenv("DEEPCORE_NCCL_LIBRARY")) names.emplace_back(env);
    names.emplace_back("libnccl.so.2");
    names.emplace_back("libnccl.so");
    for (const auto& n : names) {
      lib.handle = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib.handle) {
        lib.where = n;
        break;
      }
      const char* err = dlerror();
      lib.why += (lib.why.empty() ? "" : "; ") + std::string(err ? err : n.c_str());
    }
    if (!lib.handle) return;
    bool ok = find(lib.handle, "ncclGetUniqueId", &lib.get_unique_id) &&
              find(lib.handle, "ncclCommInitRank", &lib.comm_init_rank) &&
              find(lib.handle, "ncclCommDestroy", &lib.comm_destroy) &&
              find(lib.handle, "ncclAllReduce", &lib.all_reduce) && find(lib.handle, "ncclBroadcast", &lib.broadcast) &&
              find(lib.handle, "ncclAllGather", &lib.all_gather) &&
              find(lib.handle, "ncclReduceScatter", &lib.reduce_scatter) &&
              find(lib.handle, "ncclGetErrorString", &lib.error_string);
    if (!ok) {
      lib.why = lib.where + " lacks an NCCL function deepcore needs (an NCCL older than 2.10?)";
      lib.where.clear();
      dlclose(lib.handle);
      lib.handle = nullptr;
    }
  });
  return lib;
}

Library& require() {
  Library& lib = library();
  if (!lib.handle)
    throw CudaError("nccl: libnccl.so.2 could not be loaded (" + lib.why +
                    "): pip install nvidia-nccl-cu13, or set DEEPCORE_NCCL_LIBRARY to the library's path");
  return lib;
}

void check(Result r, const char* what) {
  if (r != 0) {
    std::ostringstream s;
    s << "nccl: " << what << " failed: " << library().error_string(r) << " (ncclResult " << r << ")";
    throw CudaError(s.str());
  }
}

int data_type(const NDArray& a, const char* op) {
  switch (a.dtype) {
    case DType::Float32: return kFloat32;
    case DType::Float64: return kFloat64;
    case DType::Int64: return kInt64;
    case DType::Bool: return kUint8;
  }
  DC_CHECK(false, op << ": unsupported dtype " << dtype_name(a.dtype));
  return kFloat32;
}

int red_op(ReduceOp op) { return static_cast<int>(op); }

Comm as_comm(std::intptr_t c, const char* op) {
  DC_CHECK(c != 0, op << ": the NCCL communicator was destroyed");
  return reinterpret_cast<Comm>(c);
}

void require_contiguous_cuda(const NDArray& a, const char* op) {
  detail::require_cuda(a, op);
  DC_CHECK(a.is_contiguous(), op << ": the tensor must be contiguous");
}

// Runs `body` on the array's device and waits for the legacy default stream: the collective is then
// complete when the Python call returns, as deepcore's other CUDA calls are.
template <class F>
void on_device(const NDArray& a, const char* op, F body) {
  detail::DeviceGuard guard(a.storage->device_index, op);
  body();
  cudaError_t e = cudaStreamSynchronize(cudaStreamLegacy);
  if (e != cudaSuccess) throw CudaError(std::string(op) + ": CUDA error: " + cudaGetErrorString(e));
}

}  // namespace

bool available(std::string* where_or_why) {
  Library& lib = library();
  if (where_or_why) *where_or_why = lib.handle ? lib.where : lib.why;
  return lib.handle != nullptr;
}

std::string unique_id() {
  Library& lib = require();
  UniqueId id;
  check(lib.get_unique_id(&id), "ncclGetUniqueId");
  return std::string(id.internal, kUniqueIdBytes);
}

std::intptr_t init_rank(int world, int rank, const std::string& id, int device_index) {
  Library& lib = require();
  DC_CHECK(world >= 1 && rank >= 0 && rank < world, "nccl: rank " << rank << " out of range for world " << world);
  DC_CHECK(id.size() == static_cast<size_t>(kUniqueIdBytes),
           "nccl: the unique id must be " << kUniqueIdBytes << " bytes, got " << id.size());
  UniqueId uid;
  std::memcpy(uid.internal, id.data(), kUniqueIdBytes);
  detail::DeviceGuard guard(device_index, "nccl init");
  Comm comm = nullptr;
  check(lib.comm_init_rank(&comm, world, uid, rank), "ncclCommInitRank");
  return reinterpret_cast<std::intptr_t>(comm);
}

void destroy(std::intptr_t comm) {
  if (comm != 0) check(require().comm_destroy(reinterpret_cast<Comm>(comm)), "ncclCommDestroy");
}

void all_reduce(std::intptr_t comm, const NDArray& a, ReduceOp op) {
  Library& lib = require();
  require_contiguous_cuda(a, "all_reduce");
  on_device(a, "all_reduce", [&] {
    check(lib.all_reduce(a.raw(), a.raw(), static_cast<size_t>(a.numel()), data_type(a, "all_reduce"), red_op(op),
                         as_comm(comm, "all_reduce"), cudaStreamLegacy),
          "ncclAllReduce");
  });
  a.bump_version();
}

void broadcast(std::intptr_t comm, const NDArray& a, int root) {
  Library& lib = require();
  require_contiguous_cuda(a, "broadcast");
  on_device(a, "broadcast", [&] {
    check(lib.broadcast(a.raw(), a.raw(), static_cast<size_t>(a.numel()), data_type(a, "broadcast"), root,
                        as_comm(comm, "broadcast"), cudaStreamLegacy),
          "ncclBroadcast");
  });
  a.bump_version();
}

void all_gather(std::intptr_t comm, const NDArray& input, const NDArray& output) {
  Library& lib = require();
  require_contiguous_cuda(input, "all_gather");
  require_contiguous_cuda(output, "all_gather");
  detail::require_same_device(input, output, "all_gather");
  DC_CHECK(input.dtype == output.dtype, "all_gather: input and output dtypes differ");
  on_device(input, "all_gather", [&] {
    check(lib.all_gather(input.raw(), output.raw(), static_cast<size_t>(input.numel()),
                         data_type(input, "all_gather"), as_comm(comm, "all_gather"), cudaStreamLegacy),
          "ncclAllGather");
  });
  output.bump_version();
}

void reduce_scatter(std::intptr_t comm, const NDArray& input, const NDArray& output, ReduceOp op) {
  Library& lib = require();
  require_contiguous_cuda(input, "reduce_scatter");
  require_contiguous_cuda(output, "reduce_scatter");
  detail::require_same_device(input, output, "reduce_scatter");
  DC_CHECK(input.dtype == output.dtype, "reduce_scatter: input and output dtypes differ");
  on_device(input, "reduce_scatter", [&] {
    check(lib.reduce_scatter(input.raw(), output.raw(), static_cast<size_t>(output.numel()),
                             data_type(input, "reduce_scatter"), red_op(op), as_comm(comm, "reduce_scatter"),
                             cudaStreamLegacy),
          "ncclReduceScatter");
  });
  output.bump_version();
}

}  // namespace deepcore::cuda::nccl
