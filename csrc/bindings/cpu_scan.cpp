// deepcore._C: cumsum, cumprod and cumprod's backward along one dimension (csrc/cpu/scan.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/scan.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_scan(py::module_& m) {
  m.def("cumsum", &cpu::cumsum, py::arg("a"), py::arg("dim"), py::arg("reverse"), Release(),
        "Running sums along dim (from the end with reverse).");
  m.def("cumprod", &cpu::cumprod, py::arg("a"), py::arg("dim"), Release(), "Running products along dim.");
  m.def("cumprod_backward", &cpu::cumprod_backward, py::arg("grad"), py::arg("input"), py::arg("dim"), Release(),
        "The gradient of cumprod(input) along dim for the output gradient grad (exact at zeros).");
}

}  // namespace deepcore::bindings
