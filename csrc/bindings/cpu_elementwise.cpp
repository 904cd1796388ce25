// deepcore._C: unary, binary (comparisons included), binary_scalar and where (csrc/cpu/elementwise.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/elementwise.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_elementwise(py::module_& m) {
  m.def("unary", &cpu::unary, py::arg("op"), py::arg("a"), py::arg("out") = py::none(), Release());
  m.def("binary", &cpu::binary, py::arg("op"), py::arg("a"), py::arg("b"), py::arg("out") = py::none(), Release());
  m.def("binary_scalar", &cpu::binary_scalar, py::arg("op"), py::arg("a"), py::arg("scalar"), py::arg("reverse"),
        py::arg("out") = py::none(), Release());
  m.def("where", &cpu::where, py::arg("cond"), py::arg("a"), py::arg("b"), Release());
}

}  // namespace deepcore::bindings
