// deepcore._C_cuda: device buffers, host<->device copies, copy_ and cast (csrc/cuda/memory.cu).
#include <pybind11/stl.h>

#include <vector>

#include "bindings/cuda_families.h"
#include "cuda/memory.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_memory(py::module_& m) {
  m.def(
      "empty",
      [](const std::vector<int64_t>& shape, DType dtype, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::empty(Shape(shape.begin(), shape.end()), dtype, device_index);
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device_index") = 0);

  m.def(
      "full",
      [](const std::vector<int64_t>& shape, double value, DType dtype, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::full(Shape(shape.begin(), shape.end()), value, dtype, device_index);
      },
      py::arg("shape"), py::arg("value"), py::arg("dtype"), py::arg("device_index") = 0);

  m.def(
      "contiguous",
      [](const NDArray& a) {
        py::gil_scoped_release nogil;
        return cuda::contiguous(a);
      },
      py::arg("a"));

  m.def(
      "copy_",
      [](const NDArray& dst, const NDArray& src) {
        {
          py::gil_scoped_release nogil;
          cuda::copy_(dst, src);
        }
        dst.bump_version();
      },
      py::arg("dst"), py::arg("src"));

  m.def(
      "cast",
      [](const NDArray& a, DType dtype) {
        py::gil_scoped_release nogil;
        return cuda::cast(a, dtype);
      },
      py::arg("a"), py::arg("dtype"));

  m.def(
      "to_device",
      [](const NDArray& a, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::to_device(a, device_index);
      },
      py::arg("a"), py::arg("device_index") = 0);

  m.def(
      "to_host",
      [](const NDArray& a) {
        py::gil_scoped_release nogil;
        return cuda::to_host(a);
      },
      py::arg("a"));

  // The caching allocator's counters and release (torch.cuda's names; deepcore.cuda wraps them).
  m.def("empty_cache", [] {
    py::gil_scoped_release nogil;
    cuda::empty_cache();
  }, "cudaFree every idle cached block.");
  m.def("memory_allocated", &cuda::memory_allocated, py::arg("device_index") = 0);
  m.def("max_memory_allocated", &cuda::max_memory_allocated, py::arg("device_index") = 0);
  m.def("memory_reserved", &cuda::memory_reserved, py::arg("device_index") = 0);
  m.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats, py::arg("device_index") = 0);
}

}  // namespace deepcore::bindings::cuda_module
