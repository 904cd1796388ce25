// deepcore._C: the Philox streams and the draws from them (csrc/cpu/random.h): the global stream
// (manual_seed, get/set_rng_state) and PhiloxGenerator, a private one (deepcore.Generator's engine).
// Every draw takes generator=None (the global stream) or a PhiloxGenerator.
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/random.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_random(py::module_& m) {
  using cpu::PhiloxGenerator;
  py::class_<PhiloxGenerator>(m, "PhiloxGenerator")
      .def(py::init<uint64_t>(), py::arg("seed"))
      .def("manual_seed", &PhiloxGenerator::manual_seed, py::arg("seed"))
      .def("get_state", &PhiloxGenerator::state)
      .def("set_state", &PhiloxGenerator::set_state, py::arg("seed"), py::arg("offset"));
  auto gen = [] { return py::arg("generator") = static_cast<PhiloxGenerator*>(nullptr); };  // None: global
  m.def("manual_seed", &cpu::manual_seed, py::arg("seed"));
  m.def("get_rng_state", &cpu::get_rng_state);
  m.def("set_rng_state", &cpu::set_rng_state, py::arg("seed"), py::arg("offset"));
  m.def("rand", &cpu::rand, py::arg("shape"), py::arg("dtype"), gen(), Release());
  m.def("randn", &cpu::randn, py::arg("shape"), py::arg("dtype"), gen(), Release());
  m.def("randint", &cpu::randint, py::arg("low"), py::arg("high"), py::arg("shape"), gen(), Release());
  m.def("randperm", &cpu::randperm, py::arg("n"), gen(), Release());
  m.def("uniform_", &cpu::uniform_, py::arg("a"), py::arg("low"), py::arg("high"), gen(), Release());
  m.def("normal_", &cpu::normal_, py::arg("a"), py::arg("mean"), py::arg("std"), gen(), Release());
  m.def("exponential_", &cpu::exponential_, py::arg("a"), py::arg("lambd"), gen(), Release());
  m.def("multinomial", &cpu::multinomial, py::arg("probs"), py::arg("num_samples"), py::arg("replacement"), gen(),
        Release());
}

}  // namespace deepcore::bindings
