// deepcore._C: the recurrent cells' fused gate arithmetic, one time step each way (csrc/cpu/recurrent.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/recurrent.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_recurrent(py::module_& m) {
  // out / h_out / grad_*_out: write that result into the given array (a step of an all-steps buffer).
  m.def("rnn_cell_forward", &cpu::rnn_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("nonlinearity"),
        py::arg("out") = py::none(), Release(), "h' = nonlinearity(gx + gh), nonlinearity 'tanh' or 'relu'.");
  m.def("rnn_cell_backward", &cpu::rnn_cell_backward, py::arg("grad_h"), py::arg("h"), py::arg("nonlinearity"),
        py::arg("out") = py::none(), Release(), "The gradient of the pre-activation gx + gh, from the saved output h'.");
  m.def("lstm_cell_forward", &cpu::lstm_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("c"), py::arg("order"),
        py::arg("recurrent_activation"), py::arg("h_out") = py::none(), Release(),
        "(h', c', gates): one LSTM step from the projections gx, gh (batch, 4 hidden); order gives the blocks "
        "of i, f, g, o; gates is saved for lstm_cell_backward.");
  m.def("lstm_cell_backward", &cpu::lstm_cell_backward, py::arg("grad_h"), py::arg("grad_c"), py::arg("gates"),
        py::arg("c"), py::arg("order"), py::arg("recurrent_activation"), py::arg("grad_pre_out") = py::none(), Release(),
        "(grad of gx + gh in the caller's block order, grad of c) for one LSTM step.");
  m.def("gru_cell_forward", &cpu::gru_cell_forward, py::arg("gx"), py::arg("gh"), py::arg("h"), py::arg("order"),
        py::arg("recurrent_activation"), py::arg("h_out") = py::none(), Release(),
        "(h', gates): one GRU step (reset gate after the hidden product); order gives the blocks of r, z, n.");
  m.def("gru_cell_backward", &cpu::gru_cell_backward, py::arg("grad_h"), py::arg("gates"), py::arg("h"),
        py::arg("order"), py::arg("recurrent_activation"), py::arg("grad_gx_out") = py::none(),
        py::arg("grad_gh_out") = py::none(), Release(), "(grad of gx, grad of gh, grad of h) for one GRU step.");
}

}  // namespace deepcore::bindings
