// deepcore._C_cuda: the fused optimizer updates (csrc/cuda/optim.cu); the same names and arguments
// as deepcore._C's (cpu_optim.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/optim.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_optim(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("sgd_step", &cuda::sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"),
        py::arg("buffer_is_new"), py::arg("lr"), py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"),
        py::arg("nesterov"), py::arg("maximize"), Release(),
        "SGD (momentum, dampening, Nesterov, weight decay) on a group of parameters, in place.");
  m.def("rmsprop_step", &cuda::rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("momentum_buffers"), py::arg("grad_avgs"), py::arg("steps"), py::arg("lr"), py::arg("alpha"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
        Release(), "RMSprop (PyTorch's: eps outside the square root) on a group of parameters, in place.");
  m.def("adagrad_step", &cuda::adagrad_step, py::arg("params"), py::arg("grads"), py::arg("sums"), py::arg("steps"),
        py::arg("lr"), py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), Release(),
        "Adagrad on a group of parameters, in place.");
  m.def("adadelta_step", &cuda::adadelta_step, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("acc_deltas"), py::arg("steps"), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("maximize"), Release(), "Adadelta on a group of parameters, in place.");
  m.def("adam_step", &cuda::adam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::arg("max_exp_avg_sqs"), py::arg("steps"), py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
        py::arg("decoupled_weight_decay"), Release(),
        "Adam, or AdamW with decoupled_weight_decay, on a group of parameters, in place.");
}

}  // namespace deepcore::bindings::cuda_module
