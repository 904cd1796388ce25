// deepcore._C: reductions over axes, argmax/argmin and the non-finite scan (csrc/cpu/reduce.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/reduce.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_reduce(py::module_& m) {
  m.def("reduce", &cpu::reduce, py::arg("op"), py::arg("a"), py::arg("axes"), py::arg("keepdim"), Release());
  m.def("arg_reduce", &cpu::arg_reduce, py::arg("is_max"), py::arg("a"), py::arg("axis"), py::arg("keepdim"),
        Release());
  m.def("has_nonfinite", &cpu::has_nonfinite, py::arg("a"), Release());
}

}  // namespace deepcore::bindings
