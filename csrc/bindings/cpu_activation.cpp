// deepcore._C: activations and their backward passes (the pointwise ones as one pair), softmax (csrc/cpu/activation.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/activation.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_activation(py::module_& m) {
  m.def("leaky_relu", &cpu::leaky_relu, py::arg("x"), py::arg("slope"), Release());
  m.def("leaky_relu_backward", &cpu::leaky_relu_backward, py::arg("grad"), py::arg("x"), py::arg("slope"), Release());
  m.def("tanh_backward", &cpu::tanh_backward, py::arg("grad"), py::arg("y"), Release());
  m.def("sigmoid_backward", &cpu::sigmoid_backward, py::arg("grad"), py::arg("y"), Release());
  m.def("activation", &cpu::activation, py::arg("x"), py::arg("kind"), py::arg("a") = 0.0, py::arg("b") = 0.0,
        Release(), "Pointwise activation: kind is elu, selu, celu, gelu, gelu_tanh, silu, mish, softplus, hardtanh, "
                   "hardsigmoid, hardswish, logsigmoid, softsign or threshold (a, b: csrc/cpu/activation.h).");
  m.def("activation_backward", &cpu::activation_backward, py::arg("grad"), py::arg("x"), py::arg("kind"),
        py::arg("a") = 0.0, py::arg("b") = 0.0, Release(), "grad * d activation / dx at the saved input x.");
  m.def("softmax", &cpu::softmax, py::arg("x"), py::arg("axis"), Release());
  m.def("log_softmax", &cpu::log_softmax, py::arg("x"), py::arg("axis"), Release());
  m.def("softmax_backward", &cpu::softmax_backward, py::arg("grad"), py::arg("y"), py::arg("axis"), Release());
  m.def("log_softmax_backward", &cpu::log_softmax_backward, py::arg("grad"), py::arg("y"), py::arg("axis"), Release());
}

}  // namespace deepcore::bindings
