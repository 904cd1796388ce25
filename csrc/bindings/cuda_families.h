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

}  // namespace deepcore::bindings::cuda_module
