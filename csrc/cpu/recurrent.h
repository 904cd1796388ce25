// The recurrent cells' gate arithmetic, one fused pass per time step each way (forward and backward
// side by side in recurrent.cpp; the CUDA twin, csrc/cuda/recurrent.cu, has the same names).
//
// The matrix products stay outside: each cell takes gx = x W + b (the input's projection, usually one
// GEMM over all time steps) and gh = h U + b' (the previous hidden state's), both (batch, k * hidden),
// and does everything between those products and the next step's state in one pass over the rows.
//
// Gate blocks: a cell's gates are column blocks of width `hidden` in gx and gh. `order` gives, for each
// gate in the canonical order below, the index of its block, so PyTorch's and Keras' layouts share one
// kernel: LSTM canonical (i, f, g, o), PyTorch and Keras (0, 1, 2, 3); GRU canonical (r, z, n), PyTorch
// (0, 1, 2), Keras (z, r, h) -> (1, 0, 2).
//
// `recurrent_activation` (the gates' squashing function) is "sigmoid" or "hard_sigmoid" (Keras 2's
// clip(0.2 x + 0.5, 0, 1)); the candidate / cell activation is tanh. The RNN step's `nonlinearity` is
// "tanh" or "relu". Other activations are composed from elementwise ops in Python (ops/recurrent.py).
//
// Inputs are 2-D, float32 or float64, on the CPU; rows may have any stride (a step's slice of the
// all-steps projection is used in place); a non-unit column stride is copied first. The `gates` that the
// forward returns are only meant for the matching backward, which takes them (or a copy of them, e.g. one
// step of a buffer holding all steps) with the same row rule.
#pragma once
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/ndarray.h"

namespace deepcore::cpu {

// The optional outputs (`out`, `h_out`, `grad_*_out`): where to write that result instead of a new array
// (a time step of the caller's all-steps buffer, saving a copy per step): (batch, width) of the dtype,
// rows of any stride, columns adjacent, sharing no memory with the inputs. The result returned is then it.

// h' = nonlinearity(gx + gh). Backward: the gradient of the pre-activation (that of gx and of gh alike),
// from the saved output h'.
NDArray rnn_cell_forward(const NDArray& gx, const NDArray& gh, const std::string& nonlinearity,
                         const std::optional<NDArray>& out = std::nullopt);
NDArray rnn_cell_backward(const NDArray& grad_h, const NDArray& h, const std::string& nonlinearity,
                          const std::optional<NDArray>& out = std::nullopt);

// LSTM: i, f, o = recurrent_activation(gx + gh blocks), g = tanh(...), c' = f c + i g, h' = o tanh(c').
// Returns (h', c', gates), gates (batch, 5 hidden) = [i, f, g, o, tanh(c')] after activation.
// Backward returns (the gradient of gx + gh, in the caller's block order; that of c), given the
// gradients of h' and c' (either may be zeros) and the forward's gates and c.
std::tuple<NDArray, NDArray, NDArray> lstm_cell_forward(const NDArray& gx, const NDArray& gh, const NDArray& c,
                                                        const std::vector<int64_t>& order,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& h_out = std::nullopt);
std::tuple<NDArray, NDArray> lstm_cell_backward(const NDArray& grad_h, const NDArray& grad_c, const NDArray& gates,
                                                const NDArray& c, const std::vector<int64_t>& order,
                                                const std::string& recurrent_activation,
                                                const std::optional<NDArray>& grad_pre_out = std::nullopt);

// GRU with the reset gate applied after the hidden product (PyTorch; Keras' reset_after=True):
// r, z = recurrent_activation(gx + gh blocks), n = tanh(gx_n + r gh_n), h' = n + z (h - n) = (1 - z) n + z h.
// Returns (h', gates), gates (batch, 4 hidden) = [r, z, n, gh_n]. Backward returns the gradients of
// (gx, gh, h); gx's and gh's differ only in the n block.
std::tuple<NDArray, NDArray> gru_cell_forward(const NDArray& gx, const NDArray& gh, const NDArray& h,
                                              const std::vector<int64_t>& order,
                                              const std::string& recurrent_activation,
                                              const std::optional<NDArray>& h_out = std::nullopt);
std::tuple<NDArray, NDArray, NDArray> gru_cell_backward(const NDArray& grad_h, const NDArray& gates,
                                                        const NDArray& h, const std::vector<int64_t>& order,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& grad_gx_out = std::nullopt,
                                                        const std::optional<NDArray>& grad_gh_out = std::nullopt);

}  // namespace deepcore::cpu
