// The recurrent cells' gate arithmetic on CUDA arrays: the twins of csrc/cpu/recurrent.h, with the same
// names, arguments, layouts (gate blocks chosen by `order`, the saved `gates` buffers) and checks.
// One thread per (row, hidden unit); rows may have any stride, columns must be adjacent (others are
// copied first). float32 and float64.
#pragma once
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/ndarray.h"

namespace deepcore::cuda {

NDArray rnn_cell_forward(const NDArray& gx, const NDArray& gh, const std::string& nonlinearity,
                         const std::optional<NDArray>& out = std::nullopt);
NDArray rnn_cell_backward(const NDArray& grad_h, const NDArray& h, const std::string& nonlinearity,
                          const std::optional<NDArray>& out = std::nullopt);

std::tuple<NDArray, NDArray, NDArray> lstm_cell_forward(const NDArray& gx, const NDArray& gh, const NDArray& c,
                                                        const std::vector<int64_t>& order,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& h_out = std::nullopt);
std::tuple<NDArray, NDArray> lstm_cell_backward(const NDArray& grad_h, const NDArray& grad_c, const NDArray& gates,
                                                const NDArray& c, const std::vector<int64_t>& order,
                                                const std::string& recurrent_activation,
                                                const std::optional<NDArray>& grad_pre_out = std::nullopt);

std::tuple<NDArray, NDArray> gru_cell_forward(const NDArray& gx, const NDArray& gh, const NDArray& h,
                                              const std::vector<int64_t>& order,
                                              const std::string& recurrent_activation,
                                              const std::optional<NDArray>& h_out = std::nullopt);
std::tuple<NDArray, NDArray, NDArray> gru_cell_backward(const NDArray& grad_h, const NDArray& gates,
                                                        const NDArray& h, const std::vector<int64_t>& order,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& grad_gx_out = std::nullopt,
                                                        const std::optional<NDArray>& grad_gh_out = std::nullopt);

}  // namespace deepcore::cuda
