// deepcore._C: the global Philox stream and the draws from it (csrc/cpu/random.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/random.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_random(py::module_& m) {
  m.def("manual_seed", &cpu::manual_seed, py::arg("seed"));
  m.def("get_rng_state", &cpu::get_rng_state);
  m.def("set_rng_state", &cpu::set_rng_state, py::arg("seed"), py::arg("offset"));
  m.def("rand", &cpu::rand, py::arg("shape"), py::arg("dtype"), Release());
  m.def("randn", &cpu::randn, py::arg("shape"), py::arg("dtype"), Release());
  m.def("randint", &cpu::randint, py::arg("low"), py::arg("high"), py::arg("shape"), Release());
  m.def("randperm", &cpu::randperm, py::arg("n"), Release());
  m.def("uniform_", &cpu::uniform_, py::arg("a"), py::arg("low"), py::arg("high"), Release());
  m.def("normal_", &cpu::normal_, py::arg("a"), py::arg("mean"), py::arg("std"), Release());
  m.def("exponential_", &cpu::exponential_, py::arg("a"), py::arg("lambd"), Release());
  m.def("multinomial", &cpu::multinomial, py::arg("probs"), py::arg("num_samples"), py::arg("replacement"),
        Release());
}

}  // namespace deepcore::bindings
