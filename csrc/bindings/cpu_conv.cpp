// conv2d, pooling and upsampling kernels on deepcore._C. Sizes arrive as
// pairs (padding also as (top, bottom, left, right)); the Python ops have
// already normalised ints to pairs.
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/conv2d.h"
#include "cpu/pool.h"

namespace py = pybind11;

namespace deepcore::bindings {
namespace {

using Release = py::call_guard<py::gil_scoped_release>;
using Pair = std::array<int64_t, 2>;

Pair pair_of(const std::vector<int64_t>& v, const char* op, const char* what) {
  DC_CHECK(v.size() == 2, op << ": " << what << " must have 2 values, got " << v.size());
  return {v[0], v[1]};
}

cpu::Conv2dParams conv_params(const char* op, const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation, int64_t groups) {
  cpu::Conv2dParams p;
  p.stride = pair_of(stride, op, "stride");
  p.dilation = pair_of(dilation, op, "dilation");
  if (padding.size() == 4) {
    p.pad_begin = {padding[0], padding[2]};
    p.pad_end = {padding[1], padding[3]};
  } else {
    p.pad_begin = p.pad_end = pair_of(padding, op, "padding");
  }
  p.groups = groups;
  return p;
}

cpu::Pool2dParams pool_params(const char* op, const std::vector<int64_t>& kernel, const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding) {
  return {pair_of(kernel, op, "kernel_size"), pair_of(stride, op, "stride"), pair_of(padding, op, "padding")};
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def(
      "conv2d_forward",
      [](const NDArray& x, const NDArray& weight, const std::optional<NDArray>& bias, const std::vector<int64_t>& stride,
         const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups) {
        return cpu::conv2d_forward(x, weight, bias, conv_params("conv2d", stride, padding, dilation, groups));
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
      py::arg("groups"), Release(),
      "x (N, C, H, W) * weight (O, C/groups, kh, kw) [+ bias (O,)]; padding: (ph, pw) or (top, bottom, left, right).");
  m.def(
      "conv2d_backward_input",
      [](const NDArray& grad_out, const NDArray& weight, const Shape& input_shape, const std::vector<int64_t>& stride,
         const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups) {
        return cpu::conv2d_backward_input(
            grad_out, weight, input_shape, conv_params("conv2d_backward_input", stride, padding, dilation, groups));
      },
      py::arg("grad_out"), py::arg("weight"), py::arg("input_shape"), py::arg("stride"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), Release());
  m.def(
      "conv2d_backward_weight",
      [](const NDArray& grad_out, const NDArray& x, const Shape& weight_shape, bool with_bias,
         const std::vector<int64_t>& stride, const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
         int64_t groups) {
        return cpu::conv2d_backward_weight(
            grad_out, x, weight_shape, with_bias,
            conv_params("conv2d_backward_weight", stride, padding, dilation, groups));
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight_shape"), py::arg("with_bias"), py::arg("stride"),
      py::arg("padding"), py::arg("dilation"), py::arg("groups"), Release(),
      "(grad of the weight, grad of the bias or None).");

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
