// deepcore._C_cuda: leaky_relu, the tanh/sigmoid backward passes, the pointwise activations and softmax
// (csrc/cuda/activation.cu); the same names and arguments as deepcore._C's (cpu_activation.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/activation.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_activation(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("leaky_relu", &cuda::leaky_relu, py::arg("x"), py::arg("slope"), Release());
  m.def("leaky_relu_backward", &cuda::leaky_relu_backward, py::arg("grad"), py::arg("x"), py::arg("slope"),
        Release());
  m.def("tanh_backward", &cuda::tanh_backward, py::arg("grad"), py::arg("y"), Release());
  m.def("sigmoid_backward", &cuda::sigmoid_backward, py::arg("grad"), py::arg("y"), Release());
  m.def("activation", &cuda::activation, py::arg("x"), py::arg("kind"), py::arg("a") = 0.0, py::arg("b") = 0.0,
        Release(), "Pointwise activation: kind is elu, selu, celu, gelu, gelu_tanh, silu, mish, softplus, hardtanh, "
                   "hardsigmoid, hardswish, logsigmoid, softsign or threshold (a, b: csrc/cpu/activation.h).");
  m.def("activation_backward", &cuda::activation_backward, py::arg("grad"), py::arg("x"), py::arg("kind"),
        py::arg("a") = 0.0, py::arg("b") = 0.0, Release(), "grad * d activation / dx at the saved input x.");
  m.def("softmax", &cuda::softmax, py::arg("x"), py::arg("axis"), Release());
  m.def("log_softmax", &cuda::log_softmax, py::arg("x"), py::arg("axis"), Release());
  m.def("softmax_backward", &cuda::softmax_backward, py::arg("grad"), py::arg("y"), py::arg("axis"), Release());
  m.def("log_softmax_backward", &cuda::log_softmax_backward, py::arg("grad"), py::arg("y"), py::arg("axis"),
        Release());
}

}  // namespace deepcore::bindings::cuda_module
