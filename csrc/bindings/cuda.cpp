// deepcore._C_cuda: the CUDA engine's Python bindings.
//
// NDArray, DType, UnaryOp and BinaryOp are registered by deepcore._C; this
// module imports it first, so the types it takes and returns are the same
// Python types (both modules share pybind11's internals). Importing this
// module does not touch the CUDA driver: the first CUDA call does.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "common/ndarray.h"
#include "common/ops.h"
#include "cuda/elementwise.h"
#include "cuda/memory.h"

namespace py = pybind11;
using namespace deepcore;

namespace {

// `out` is None or an NDArray; returns a pointer into the Python object (kept
// alive by the caller's argument) or nullptr.
const NDArray* out_ptr(const py::object& out) {
  if (out.is_none()) return nullptr;
  return &out.cast<const NDArray&>();
}

// When `out` was given, hand back the very same Python object.
py::object result(NDArray r, const py::object& out) {
  if (!out.is_none()) {
    out.cast<const NDArray&>().bump_version();
    return out;
  }
  return py::cast(std::move(r));
}

}  // namespace

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

  m.def(
      "empty",
      [](const std::vector<int64_t>& shape, DType dtype, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::empty(Shape(shape.begin(), shape.end()), dtype, device_index);
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device_index") = 0);

  m.def(
      "full",
      [](const std::vector<int64_t>& shape, double value, DType dtype, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::full(Shape(shape.begin(), shape.end()), value, dtype, device_index);
      },
      py::arg("shape"), py::arg("value"), py::arg("dtype"), py::arg("device_index") = 0);

  m.def(
      "contiguous",
      [](const NDArray& a) {
        py::gil_scoped_release nogil;
        return cuda::contiguous(a);
      },
      py::arg("a"));

  m.def(
      "copy_",
      [](const NDArray& dst, const NDArray& src) {
        {
          py::gil_scoped_release nogil;
          cuda::copy_(dst, src);
        }
        dst.bump_version();
      },
      py::arg("dst"), py::arg("src"));

  m.def(
      "cast",
      [](const NDArray& a, DType dtype) {
        py::gil_scoped_release nogil;
        return cuda::cast(a, dtype);
      },
      py::arg("a"), py::arg("dtype"));

  m.def(
      "unary",
      [](UnaryOp op, const NDArray& a, const py::object& out) {
        const NDArray* o = out_ptr(out);
        NDArray r;
        {
          py::gil_scoped_release nogil;
          r = cuda::unary(op, a, o);
        }
        return result(std::move(r), out);
      },
      py::arg("op"), py::arg("a"), py::arg("out") = py::none());

  m.def(
      "binary",
      [](BinaryOp op, const NDArray& a, const NDArray& b, const py::object& out) {
        const NDArray* o = out_ptr(out);
        NDArray r;
        {
          py::gil_scoped_release nogil;
          r = cuda::binary(op, a, b, o);
        }
        return result(std::move(r), out);
      },
      py::arg("op"), py::arg("a"), py::arg("b"), py::arg("out") = py::none());

  m.def(
      "binary_scalar",
      [](BinaryOp op, const NDArray& a, double scalar, bool reverse, const py::object& out) {
        const NDArray* o = out_ptr(out);
        NDArray r;
        {
          py::gil_scoped_release nogil;
          r = cuda::binary_scalar(op, a, scalar, reverse, o);
        }
        return result(std::move(r), out);
      },
      py::arg("op"), py::arg("a"), py::arg("scalar"), py::arg("reverse") = false, py::arg("out") = py::none());

  m.def(
      "to_device",
      [](const NDArray& a, int device_index) {
        py::gil_scoped_release nogil;
        return cuda::to_device(a, device_index);
      },
      py::arg("a"), py::arg("device_index") = 0);

  m.def(
      "to_host",
      [](const NDArray& a) {
        py::gil_scoped_release nogil;
        return cuda::to_host(a);
      },
      py::arg("a"));
}
