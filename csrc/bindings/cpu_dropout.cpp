// deepcore._C: dropout, its mask drawn from the Philox stream (csrc/cpu/dropout.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/dropout.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_dropout(py::module_& m) {
  m.def("dropout", &cpu::dropout, py::arg("x"), py::arg("p"), Release(), "(out, keep mask)");
  m.def("dropout_backward", &cpu::dropout_backward, py::arg("grad"), py::arg("mask"), py::arg("p"), Release());
}

}  // namespace deepcore::bindings
