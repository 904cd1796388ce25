// deepcore._C_cuda: the CUDA engine's Python bindings. This file is the module
// itself: the import of deepcore._C, error translation and the device queries.
// Each kernel family binds its functions in cuda_<family>.cpp, named like the
// .cu file it binds (cuda_families.h).
//
// NDArray, DType, UnaryOp and BinaryOp are registered by deepcore._C; this
// module imports it first, so the types it takes and returns are the same
// Python types (both modules share pybind11's internals). Importing this
// module does not touch the CUDA driver: the first CUDA call does.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/cuda_families.h"
#include "common/ndarray.h"
#include "cuda/memory.h"

namespace py = pybind11;
using namespace deepcore;

PYBIND11_MODULE(_C_cuda, m) {
  // Registers NDArray, the enums and the exception translators.
  py::module_::import("deepcore._C");

  m.doc() = "deepcore CUDA engine (elementwise ops, memory, host<->device copies)";

  // Also translate here, so that errors keep their Python type even if the
  // CPU module's translators change.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const deepcore::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const deepcore::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const cuda::CudaError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def(
      "device_count",
      []() {
        py::gil_scoped_release nogil;
        return cuda::device_count();
      },
      "Number of CUDA devices; 0 when there is no driver or GPU.");

  m.def(
      "synchronize",
      []() {
        py::gil_scoped_release nogil;
        cuda::synchronize();
      },
      "Waits for all queued work on every CUDA device.");

  m.def(
      "device_name",
      [](int index) {
        py::gil_scoped_release nogil;
        return cuda::device_name(index);
      },
      py::arg("index") = 0);

  bindings::cuda_module::bind_memory(m);
  bindings::cuda_module::bind_elementwise(m);
}
