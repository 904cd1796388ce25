// deepcore._C: the losses, forward and backward (csrc/cpu/loss.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/loss.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_loss(py::module_& m) {
  m.def("cross_entropy", &cpu::cross_entropy, py::arg("logits"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("label_smoothing"), py::arg("reduction"), Release(),
        "Fused log-softmax + NLL over dim 1: (loss, total target weight).");
  m.def("cross_entropy_backward", &cpu::cross_entropy_backward, py::arg("grad"), py::arg("logits"),
        py::arg("target"), py::arg("weight"), py::arg("ignore_index"), py::arg("label_smoothing"),
        py::arg("reduction"), py::arg("total_weight"), Release());
  m.def("nll_loss", &cpu::nll_loss, py::arg("log_probs"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("reduction"), Release(), "(loss, total target weight)");
  m.def("nll_loss_backward", &cpu::nll_loss_backward, py::arg("grad"), py::arg("log_probs"), py::arg("target"),
        py::arg("weight"), py::arg("ignore_index"), py::arg("reduction"), py::arg("total_weight"), Release());
  m.def("pointwise_loss", &cpu::pointwise_loss, py::arg("kind"), py::arg("x"), py::arg("y"), py::arg("weight"),
        py::arg("pos_weight"), py::arg("reduction"), Release(),
        "Elementwise loss: kind is mse, l1, bce or bce_with_logits.");
  m.def("pointwise_loss_backward", &cpu::pointwise_loss_backward, py::arg("kind"), py::arg("grad"), py::arg("x"),
        py::arg("y"), py::arg("weight"), py::arg("pos_weight"), py::arg("reduction"), Release());
}

}  // namespace deepcore::bindings
