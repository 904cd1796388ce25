// deepcore._C_cuda: NCCL collectives on CUDA arrays (csrc/cuda/nccl.cu), for deepcore.distributed's
// "nccl" backend (python/deepcore/distributed/_nccl.py). Only in _C_cuda: the emulator has no NCCL.
#include <pybind11/stl.h>

#include <string>

#include "bindings/cuda_families.h"
#include "cuda/nccl.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_nccl(py::module_& m) {
  using cuda::nccl::ReduceOp;
  py::enum_<ReduceOp>(m, "NcclReduceOp")
      .value("sum", ReduceOp::Sum)
      .value("prod", ReduceOp::Prod)
      .value("max", ReduceOp::Max)
      .value("min", ReduceOp::Min)
      .value("avg", ReduceOp::Avg);

  m.def(
      "nccl_available",
      [] {
        std::string where_or_why;
        bool ok = cuda::nccl::available(&where_or_why);
        return py::make_tuple(ok, where_or_why);
      },
      "(True, the library loaded) or (False, why not).");
  m.def("nccl_unique_id", [] { return py::bytes(cuda::nccl::unique_id()); });
  m.def(
      "nccl_init_rank",
      [](int world, int rank, const std::string& id, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::nccl::init_rank(world, rank, id, device_index);
      },
      py::arg("world"), py::arg("rank"), py::arg("unique_id"), py::arg("device_index"));
  m.def("nccl_destroy", [](std::intptr_t comm) { cuda::nccl::destroy(comm); }, py::arg("comm"));
  m.def(
      "nccl_all_reduce",
      [](std::intptr_t comm, const NDArray& a, ReduceOp op) {
        py::gil_scoped_release nogil;
        cuda::nccl::all_reduce(comm, a, op);
      },
      py::arg("comm"), py::arg("a"), py::arg("op"));
  m.def(
      "nccl_broadcast",
      [](std::intptr_t comm, const NDArray& a, int root) {
        py::gil_scoped_release nogil;
        cuda::nccl::broadcast(comm, a, root);
      },
      py::arg("comm"), py::arg("a"), py::arg("root"));
  m.def(
      "nccl_all_gather",
      [](std::intptr_t comm, const NDArray& input, const NDArray& output) {
        py::gil_scoped_release nogil;
        cuda::nccl::all_gather(comm, input, output);
      },
      py::arg("comm"), py::arg("input"), py::arg("output"));
  m.def(
      "nccl_reduce_scatter",
      [](std::intptr_t comm, const NDArray& input, const NDArray& output, ReduceOp op) {
        py::gil_scoped_release nogil;
        cuda::nccl::reduce_scatter(comm, input, output, op);
      },
      py::arg("comm"), py::arg("input"), py::arg("output"), py::arg("op"));
}

}  // namespace deepcore::bindings::cuda_module
