// deepcore._C_cuda: dropout forward and backward (csrc/cuda/dropout.cu). The forward takes the
// Philox counters explicitly (dropout_at); python/deepcore/backend/cuda.py's dropout(x, p), the
// CPU's signature, reserves them from the global generator.
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/dropout.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_dropout(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("dropout_at", &cuda::dropout_at, py::arg("x"), py::arg("p"), py::arg("seed"), py::arg("first"), Release(),
        "(out, keep mask) from the Philox blocks first, first + 1, ... of key seed.");
  m.def("dropout_backward", &cuda::dropout_backward, py::arg("grad"), py::arg("mask"), py::arg("p"), Release());
}

}  // namespace deepcore::bindings::cuda_module
