// deepcore._C_cuda: the recurrent cells' fused gate arithmetic, one time step each way
// (csrc/cuda/recurrent.cu); the same names and arguments as deepcore._C's (cpu_recurrent.cpp).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "cuda/recurrent.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {

void bind_recurrent(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("rnn_cell_forward", &cuda::rnn_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("nonlinearity"),
        py::arg("out") = py::none(), Release());
  m.def("rnn_cell_backward", &cuda::rnn_cell_backward, py::arg("grad_h"), py::arg("h"), py::arg("nonlinearity"),
        py::arg("out") = py::none(), Release());
  m.def("lstm_cell_forward", &cuda::lstm_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("c"), py::arg("order"),
        py::arg("recurrent_activation"), py::arg("h_out") = py::none(), Release());
  m.def("lstm_cell_backward", &cuda::lstm_cell_backward, py::arg("grad_h"), py::arg("grad_c"), py::arg("gates"),
        py::arg("c"), py::arg("order"), py::arg("recurrent_activation"), py::arg("grad_pre_out") = py::none(),
        Release());
  m.def("gru_cell_forward", &cuda::gru_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("h"), py::arg("order"),
        py::arg("recurrent_activation"), py::arg("h_out") = py::none(), Release());
  m.def("gru_cell_backward", &cuda::gru_cell_backward, py::arg("grad_h"), py::arg("gates"), py::arg("h"),
        py::arg("order"), py::arg("recurrent_activation"), py::arg("grad_gx_out") = py::none(),
        py::arg("grad_gh_out") = py::none(), Release());
}

}  // namespace deepcore::bindings::cuda_module
