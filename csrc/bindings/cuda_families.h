// Each kernel family of the CUDA engine registers its functions on
// deepcore._C_cuda through one of these, from cuda_<family>.cpp;
// PYBIND11_MODULE(_C_cuda) in cuda.cpp calls them after importing deepcore._C,
// which registers the NDArray type and the enums their signatures name. Their
// own namespace keeps them apart from deepcore._C's bind_memory and friends.
#pragma once
#include <pybind11/pybind11.h>

#include "common/ndarray.h"

namespace deepcore::bindings::cuda_module {

void bind_memory(pybind11::module_& m);       // empty, full, contiguous, copy_, cast, to_device, to_host (cuda_memory.cpp)
void bind_elementwise(pybind11::module_& m);  // unary, binary, binary_scalar (cuda_elementwise.cpp)
void bind_reduce(pybind11::module_& m);       // reduce, arg_reduce, has_nonfinite (cuda_reduce.cpp)
void bind_activation(pybind11::module_& m);   // leaky_relu, tanh/sigmoid backward, softmax (cuda_activation.cpp)
void bind_loss(pybind11::module_& m);         // cross_entropy, nll_loss, pointwise_loss + backward (cuda_loss.cpp)
void bind_matmul(pybind11::module_& m);       // matmul (cuda_matmul.cpp)
void bind_optim(pybind11::module_& m);        // sgd/rmsprop/adagrad/adadelta/adam _step (cuda_optim.cpp)
void bind_pool(pybind11::module_& m);         // max/avg pool2d, nearest upsampling + backward (cuda_pool.cpp)
void bind_conv(pybind11::module_& m);         // conv2d forward, backward input and weight (cuda_conv.cpp)
void bind_dropout(pybind11::module_& m);      // dropout_at, dropout_backward (cuda_dropout.cpp)
void bind_recurrent(pybind11::module_& m);    // rnn/lstm/gru _cell_forward/_backward (cuda_recurrent.cpp)
void bind_nccl(pybind11::module_& m);         // nccl_* collectives, _C_cuda only (cuda_nccl.cpp)

}  // namespace deepcore::bindings::cuda_module
