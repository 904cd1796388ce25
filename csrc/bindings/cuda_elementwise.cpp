// deepcore._C_cuda: unary, binary and binary_scalar with broadcasting (csrc/cuda/elementwise.cu).
#include <pybind11/stl.h>

#include "bindings/cuda_families.h"
#include "common/ops.h"
#include "cuda/elementwise.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {
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

void bind_elementwise(py::module_& m) {
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
}

}  // namespace deepcore::bindings::cuda_module
