// deepcore._C: max/avg pool2d and nearest upsampling, forward and backward (csrc/cpu/pool.h).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/pool.h"

namespace py = pybind11;

namespace deepcore::bindings {
namespace {

cpu::Pool2dParams pool_params(const char* op, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding) {
  return {pair_of(kernel, op, "kernel_size"), pair_of(stride, op, "stride"), pair_of(padding, op, "padding")};
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def(
      "max_pool2d_forward",
      [](const NDArray& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
         const std::vector<int64_t>& padding) {
        return cpu::max_pool2d_forward(x, pool_params("max_pool2d", kernel, stride, padding));
      },
      py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "max_pool2d_backward",
      [](const NDArray& grad_out, const NDArray& x, const std::vector<int64_t>& kernel,
         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
        return cpu::max_pool2d_backward(grad_out, x, pool_params("max_pool2d_backward", kernel, stride, padding));
      },
      py::arg("grad_out"), py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "avg_pool2d_forward",
      [](const NDArray& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
         const std::vector<int64_t>& padding) {
        return cpu::avg_pool2d_forward(x, pool_params("avg_pool2d", kernel, stride, padding));
      },
      py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "avg_pool2d_backward",
      [](const NDArray& grad_out, const Shape& input_shape, const std::vector<int64_t>& kernel,
         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
        return cpu::avg_pool2d_backward(grad_out, input_shape,
                                        pool_params("avg_pool2d_backward", kernel, stride, padding));
      },
      py::arg("grad_out"), py::arg("input_shape"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
      Release());
  m.def(
      "upsample_nearest2d_forward",
      [](const NDArray& x, const std::vector<int64_t>& scale) {
        return cpu::upsample_nearest2d_forward(x, pair_of(scale, "upsample_nearest2d", "scale_factor"));
      },
      py::arg("x"), py::arg("scale_factor"), Release());
  m.def(
      "upsample_nearest2d_backward",
      [](const NDArray& grad_out, const std::vector<int64_t>& scale) {
        return cpu::upsample_nearest2d_backward(grad_out,
                                                pair_of(scale, "upsample_nearest2d_backward", "scale_factor"));
      },
      py::arg("grad_out"), py::arg("scale_factor"), Release());
}

}  // namespace deepcore::bindings
