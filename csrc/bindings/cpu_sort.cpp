// deepcore._C: sort and topk along one dimension (csrc/cpu/sort.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/sort.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_sort(py::module_& m) {
  m.def("sort", &cpu::sort, py::arg("a"), py::arg("dim"), py::arg("descending"), Release(),
        "(values, int64 indices) of a sorted along dim (stable; NaN largest).");
  m.def("topk", &cpu::topk, py::arg("a"), py::arg("k"), py::arg("dim"), py::arg("largest"), py::arg("sorted"),
        Release(), "(values, int64 indices) of the k largest (or smallest) elements along dim.");
}

}  // namespace deepcore::bindings
