// deepcore._C: the dense layer's fused forward pass (csrc/cpu/linear.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/linear.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_linear(py::module_& m) {
  m.def("linear_forward", &cpu::linear_forward, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("relu") = false, Release());
}

}  // namespace deepcore::bindings
