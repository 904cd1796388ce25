// Each kernel family registers its functions on deepcore._C through one of
// these, from cpu_<family>.cpp; PYBIND11_MODULE(_C) in cpu.cpp calls them all,
// after it has registered NDArray and the enums.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <pybind11/pybind11.h>

#include "common/ndarray.h"

namespace deepcore::bindings {

void bind_memory(pybind11::module_& m);       // empty, full, contiguous, copy_, cast, cpu_empty_cache (cpu_memory.cpp)
void bind_elementwise(pybind11::module_& m);  // unary, binary, binary_scalar, where (cpu_elementwise.cpp)
void bind_reduce(pybind11::module_& m);       // reduce, arg_reduce, has_nonfinite (cpu_reduce.cpp)
void bind_activation(pybind11::module_& m);   // leaky_relu, activation(kind), tanh/sigmoid bwd, (log_)softmax
void bind_matmul(pybind11::module_& m);       // matmul, gemm_kernel_name (cpu_matmul.cpp)
void bind_linear(pybind11::module_& m);       // linear_forward: GEMM + bias + ReLU fused (cpu_linear.cpp)
void bind_conv(pybind11::module_& m);         // conv2d forward, backward input / weight (cpu_conv.cpp)
void bind_pool(pybind11::module_& m);         // max/avg pool2d, nearest upsampling (cpu_pool.cpp)
void bind_loss(pybind11::module_& m);         // cross-entropy, NLL, pointwise losses (cpu_loss.cpp)
void bind_dropout(pybind11::module_& m);      // dropout and its backward (cpu_dropout.cpp)
void bind_random(pybind11::module_& m);       // Philox state, rand, randn, randint, randperm (cpu_random.cpp)
void bind_optim(pybind11::module_& m);        // fused optimizer updates (cpu_optim.cpp)
void bind_index(pybind11::module_& m);        // index_select, index_add_, gather, scatter_, index_select_u8
void bind_sort(pybind11::module_& m);         // sort, topk (cpu_sort.cpp)
void bind_scan(pybind11::module_& m);         // cumsum, cumprod, cumprod_backward (cpu_scan.cpp)
void bind_recurrent(pybind11::module_& m);    // rnn/lstm/gru cell forward and backward (cpu_recurrent.cpp)

// Kernels release the GIL: they never touch Python objects.
using Release = pybind11::call_guard<pybind11::gil_scoped_release>;

// Sizes (kernel, stride, padding, scale) arrive from Python as lists; the ops
// have already turned ints into pairs, so any other length is a bug upstream.
inline std::array<int64_t, 2> pair_of(const std::vector<int64_t>& v, const char* op, const char* what) {
  DC_CHECK(v.size() == 2, op << ": " << what << " must have 2 values, got " << v.size());
  return {v[0], v[1]};
}

}  // namespace deepcore::bindings
