// deepcore._C: matmul on NDArrays (csrc/cpu/matmul.h) and the name of the GEMM
// micro-kernel behind it (csrc/cpu/gemm.h), which benchmarks and bug reports quote.
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/gemm.h"
#include "cpu/matmul.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_matmul(py::module_& m) {
  m.def("matmul", &cpu::matmul, py::arg("a"), py::arg("b"), Release());
  m.def("gemm_kernel_name", &cpu::gemm_kernel_name);
}

}  // namespace deepcore::bindings
