// deepcore._C_cuda: reductions over axes, argmax/argmin and the non-finite scan (csrc/cuda/reduce.cu);
// the same names and arguments as deepcore._C's (cpu_reduce.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/reduce.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_reduce(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("reduce", &cuda::reduce, py::arg("op"), py::arg("a"), py::arg("axes"), py::arg("keepdim"), Release());
  m.def("arg_reduce", &cuda::arg_reduce, py::arg("is_max"), py::arg("a"), py::arg("axis"), py::arg("keepdim"),
        Release());
  m.def("has_nonfinite", &cuda::has_nonfinite, py::arg("a"), Release());
}

}  // namespace deepcore::bindings::cuda_module
