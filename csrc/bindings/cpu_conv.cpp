// deepcore._C: conv2d forward and backward (csrc/cpu/conv.h). Padding arrives
// as (ph, pw) or, for asymmetric 'same' padding, as (top, bottom, left, right).
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "cpu/conv.h"

namespace py = pybind11;

namespace deepcore::bindings {
namespace {

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
}

}  // namespace deepcore::bindings
