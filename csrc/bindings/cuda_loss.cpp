// deepcore._C_cuda: the losses, forward and backward (csrc/cuda/loss.cu); the same names and
// arguments as deepcore._C's (cpu_loss.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/loss.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_loss(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("cross_entropy", &cuda::cross_entropy, py::arg("logits"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("label_smoothing"), py::arg("reduction"), Release(),
        "Fused log-softmax + NLL over dim 1: (loss, total target weight).");
  m.def("cross_entropy_backward", &cuda::cross_entropy_backward, py::arg("grad"), py::arg("logits"),
        py::arg("target"), py::arg("weight"), py::arg("ignore_index"), py::arg("label_smoothing"),
        py::arg("reduction"), py::arg("total_weight"), Release());
  m.def("nll_loss", &cuda::nll_loss, py::arg("log_probs"), py::arg("target"), py::arg("weight"),
        py::arg("ignore_index"), py::arg("reduction"), Release(), "(loss, total target weight)");
  m.def("nll_loss_backward", &cuda::nll_loss_backward, py::arg("grad"), py::arg("log_probs"), py::arg("target"),
        py::arg("weight"), py::arg("ignore_index"), py::arg("reduction"), py::arg("total_weight"), Release());
  m.def("pointwise_loss", &cuda::pointwise_loss, py::arg("kind"), py::arg("x"), py::arg("y"), py::arg("weight"),
        py::arg("pos_weight"), py::arg("reduction"), Release(),
        "Elementwise loss: kind is mse, l1, bce or bce_with_logits.");
  m.def("pointwise_loss_backward", &cuda::pointwise_loss_backward, py::arg("kind"), py::arg("grad"), py::arg("x"),
        py::arg("y"), py::arg("weight"), py::arg("pos_weight"), py::arg("reduction"), Release());
}

}  // namespace deepcore::bindings::cuda_module
