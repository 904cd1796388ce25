// deepcore._C_cuda: matmul on CUDA arrays (csrc/cuda/matmul.cu); the same name and arguments as
// deepcore._C's (cpu_matmul.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/matmul.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_matmul(py::module_& m) {
  m.def("matmul", &cuda::matmul, py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace deepcore::bindings::cuda_module
