// deepcore._C: allocation, copies and casts (csrc/cpu/memory.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/memory.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_memory(py::module_& m) {
  m.def("empty", &cpu::empty, py::arg("shape"), py::arg("dtype"), Release());
  m.def("full", &cpu::full, py::arg("shape"), py::arg("value"), py::arg("dtype"), Release());
  m.def("contiguous", &cpu::contiguous, py::arg("a"), Release());
  m.def("copy_", &cpu::copy_, py::arg("dst"), py::arg("src"), Release());
  m.def("cast", &cpu::cast, py::arg("a"), py::arg("dtype"), Release());
  m.def("cpu_empty_cache", &cpu::cpu_empty_cache, "Free the idle large blocks kept for reuse; returns bytes freed.");
}

}  // namespace deepcore::bindings
