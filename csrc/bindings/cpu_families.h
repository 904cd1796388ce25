// Each kernel family that lives outside cpu.cpp registers its functions on
// deepcore._C through one of these (called at the end of PYBIND11_MODULE(_C)).
#pragma once
#include <pybind11/pybind11.h>

namespace deepcore::bindings {

void bind_conv(pybind11::module_& m);   // conv2d, pooling, upsampling (cpu_conv.cpp)
void bind_loss(pybind11::module_& m);   // losses, dropout (cpu_loss.cpp)
void bind_optim(pybind11::module_& m);  // fused optimizer updates (cpu_optim.cpp)
void bind_index(pybind11::module_& m);  // index_select, index_add_ (cpu_index.cpp)

}  // namespace deepcore::bindings
