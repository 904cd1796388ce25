// deepcore._C_cuda: max/avg pool2d and nearest upsampling, forward and backward (csrc/cuda/pool.cu);
// the same names and arguments as deepcore._C's (cpu_pool.cpp).
#include <pybind11/stl.h>

#include <array>
#include <vector>

#include "bindings/cuda_families.h"
#include "cuda/pool.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {
namespace {

std::array<int64_t, 2> pair_of(const std::vector<int64_t>& v, const char* op, const char* what) {
  DC_CHECK(v.size() == 2, op << ": " << what << " must have 2 values, got " << v.size());
  return {v[0], v[1]};
}

cuda::Pool2dParams pool_params(const char* op, const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& stride, const std::vector<int64_t>& padding) {
  return {pair_of(kernel, op, "kernel_size"), pair_of(stride, op, "stride"), pair_of(padding, op, "padding")};
}

using Ints = std::vector<int64_t>;

}  // namespace

void bind_pool(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "max_pool2d_forward",
      [](const NDArray& x, const Ints& kernel, const Ints& stride, const Ints& padding) {
        return cuda::max_pool2d_forward(x, pool_params("max_pool2d", kernel, stride, padding));
      },
      py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "max_pool2d_backward",
      [](const NDArray& grad_out, const NDArray& x, const Ints& kernel, const Ints& stride, const Ints& padding) {
        return cuda::max_pool2d_backward(grad_out, x, pool_params("max_pool2d_backward", kernel, stride, padding));
      },
      py::arg("grad_out"), py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "avg_pool2d_forward",
      [](const NDArray& x, const Ints& kernel, const Ints& stride, const Ints& padding) {
        return cuda::avg_pool2d_forward(x, pool_params("avg_pool2d", kernel, stride, padding));
      },
      py::arg("x"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release());
  m.def(
      "avg_pool2d_backward",
      [](const NDArray& grad_out, const Shape& input_shape, const Ints& kernel, const Ints& stride,
         const Ints& padding) {
        return cuda::avg_pool2d_backward(grad_out, input_shape,
                                         pool_params("avg_pool2d_backward", kernel, stride, padding));
      },
      py::arg("grad_out"), py::arg("input_shape"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
      Release());
  m.def(
      "upsample_nearest2d_forward",
      [](const NDArray& x, const Ints& scale) {
        return cuda::upsample_nearest2d_forward(x, pair_of(scale, "upsample_nearest2d", "scale_factor"));
      },
      py::arg("x"), py::arg("scale_factor"), Release());
  m.def(
      "upsample_nearest2d_backward",
      [](const NDArray& grad_out, const Ints& scale) {
        return cuda::upsample_nearest2d_backward(grad_out,
                                                 pair_of(scale, "upsample_nearest2d_backward", "scale_factor"));
      },
      py::arg("grad_out"), py::arg("scale_factor"), Release());
}

}  // namespace deepcore::bindings::cuda_module
