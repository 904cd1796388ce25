// deepcore._C: index_select / index_add_, gather / scatter_ (csrc/cpu/index.cpp).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/index.h"

namespace py = pybind11;

namespace deepcore::bindings {

void bind_index(py::module_& m) {
  m.def("index_select", &cpu::index_select, py::arg("a"), py::arg("dim"), py::arg("indices"), Release(),
        "a gathered along dim at int64 indices (a new contiguous array).");
  m.def("index_add_", &cpu::index_add_, py::arg("dst"), py::arg("dim"), py::arg("indices"), py::arg("src"), Release(),
        "dst[..., indices[j], ...] += src[..., j, ...] along dim (repeated indices accumulate).");
  m.def("gather", &cpu::gather, py::arg("a"), py::arg("dim"), py::arg("index"), Release(),
        "out[...] = a[..., index[...], ...] along dim (out has index's shape).");
  m.def("scatter_", &cpu::scatter_, py::arg("dst"), py::arg("dim"), py::arg("index"), py::arg("src"),
        py::arg("accumulate"), Release(),
        "dst[..., index[...], ...] = src[...] along dim, in place (+= with accumulate).");
  // Takes a NumPy uint8 array (deepcore has no uint8 dtype): the datasets keep
  // their images as bytes and convert only the rows of each batch.
  m.def(
      "index_select_u8",
      [](py::array_t<uint8_t, py::array::c_style> src, const NDArray& indices, DType out_dtype, double scale,
         double shift) {
        Shape shape(src.shape(), src.shape() + src.ndim());
        const uint8_t* data = src.data();
        py::gil_scoped_release release;
        return cpu::index_select_u8(data, shape, indices, out_dtype, scale, shift);
      },
      py::arg("src"), py::arg("indices"), py::arg("dtype"), py::arg("scale") = 1.0, py::arg("shift") = 0.0,
      "Rows src[indices] of a C-contiguous uint8 array as dtype, times scale plus shift.");
}

}  // namespace deepcore::bindings
