// deepcore._C_cuda: conv2d forward and backward (csrc/cuda/conv.cu); the same names and arguments
// as deepcore._C's (cpu_conv.cpp). Padding arrives as (ph, pw) or, for asymmetric 'same' padding,
// as (top, bottom, left, right).
#include <pybind11/stl.h>

#include <array>
#include <vector>

#include "bindings/cuda_families.h"
#include "cuda/conv.h"

namespace py = pybind11;

namespace deepcore::bindings::cuda_module {
namespace {

using Ints = std::vector<int64_t>;

std::array<int64_t, 2> pair_of(const Ints& v, const char* op, const char* what) {
  DC_CHECK(v.size() == 2, op << ": " << what << " must have 2 values, got " << v.size());
  return {v[0], v[1]};
}

cuda::Conv2dParams conv_params(const char* op, const Ints& stride, const Ints& padding, const Ints& dilation,
                               int64_t groups) {
  cuda::Conv2dParams p;
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
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "conv2d_forward",
      [](const NDArray& x, const NDArray& weight, const std::optional<NDArray>& bias, const Ints& stride,
         const Ints& padding, const Ints& dilation, int64_t groups) {
        return cuda::conv2d_forward(x, weight, bias, conv_params("conv2d", stride, padding, dilation, groups));
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
      py::arg("groups"), Release(),
      "x (N, C, H, W) * weight (O, C/groups, kh, kw) [+ bias (O,)]; padding: (ph, pw) or (top, bottom, left, right).");
  m.def(
      "conv2d_backward_input",
      [](const NDArray& grad_out, const NDArray& weight, const Shape& input_shape, const Ints& stride,
         const Ints& padding, const Ints& dilation, int64_t groups) {
        return cuda::conv2d_backward_input(
            grad_out, weight, input_shape, conv_params("conv2d_backward_input", stride, padding, dilation, groups));
      },
      py::arg("grad_out"), py::arg("weight"), py::arg("input_shape"), py::arg("stride"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), Release());
  m.def(
      "conv2d_backward_weight",
      [](const NDArray& grad_out, const NDArray& x, const Shape& weight_shape, bool with_bias, const Ints& stride,
         const Ints& padding, const Ints& dilation, int64_t groups) {
        return cuda::conv2d_backward_weight(grad_out, x, weight_shape, with_bias,
                                            conv_params("conv2d_backward_weight", stride, padding, dilation, groups));
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight_shape"), py::arg("with_bias"), py::arg("stride"),
      py::arg("padding"), py::arg("dilation"), py::arg("groups"), Release(),
      "(grad of the weight, grad of the bias or None).");
}

}  // namespace deepcore::bindings::cuda_module
