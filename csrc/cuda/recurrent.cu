// The recurrent cells' gate arithmetic (RNN, LSTM, GRU) on CUDA, forward and backward side by side: the
// twin of csrc/cpu/recurrent.cpp (same names, same formulas, same saved buffers), one thread per
// (row, hidden unit), each thread reading its unit's column of every gate block.
#include "cuda/recurrent.h"

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)

#include <optional>
#include <string>

#include "common/overlap.h"
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

using detail::kThreads;

// ---- device math ------------------------------------------------------------------------------

__device__ __forceinline__ float tanh_of(float x) { return tanhf(x); }
__device__ __forceinline__ double tanh_of(double x) { return tanh(x); }
__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return exp(x); }

// sigmoid from exp(-|x|) only, as the CPU's vector math: never overflows.
template <class T>
__device__ __forceinline__ T sigmoid_of(T x) {
  const T e = exp_of(x >= T(0) ? -x : x);
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// The gates' activation: sigmoid, or Keras 2's hard_sigmoid clip(0.2 x + 0.5, 0, 1) (NaN propagates).
template <bool HARD, class T>
__device__ __forceinline__ T gate_of(T x) {
  if constexpr (HARD) {
    const T v = x * T(0.2) + T(0.5);
    return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
  } else {
    return sigmoid_of(x);
  }
}

// d gate / d pre-activation from the gate's value (hard_sigmoid: 0.2 strictly inside (0, 1), as on the CPU).
template <bool HARD, class T>
__device__ __forceinline__ T gate_slope(T y) {
  if constexpr (HARD) {
    return (y > T(0) && y < T(1)) ? T(0.2) : T(0);
  } else {
    return y * (T(1) - y);
  }
}

struct Order4 {
  int64_t k[4];
};
struct Order3 {
  int64_t k[3];
};

#define DC_GRID_STRIDE_LOOP(idx, n) \
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < (n); idx += int64_t(blockDim.x) * gridDim.x)

// ---- kernels ----------------------------------------------------------------------------------

template <bool RELU, class T>
__global__ void rnn_cell_forward_kernel(const T* gx, int64_t sx, const T* gh, int64_t sh, T* h, int64_t so,
                                        int64_t batch, int64_t H) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T z = gx[b * sx + j] + gh[b * sh + j];
    h[b * so + j] = RELU ? (z < T(0) ? T(0) : z) : tanh_of(z);
  }
}

template <bool RELU, class T>
__global__ void rnn_cell_backward_kernel(const T* g, int64_t sg, const T* h, int64_t sh, T* out, int64_t so,
                                         int64_t batch, int64_t H) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T y = h[b * sh + j], d = g[b * sg + j];
    out[b * so + j] = RELU ? (y > T(0) ? d : T(0)) : d * (T(1) - y * y);
  }
}

template <bool HARD, class T>
__global__ void lstm_cell_forward_kernel(const T* gx, int64_t sx, const T* gh, int64_t sh, const T* c, int64_t sc,
                                         T* h_next, int64_t so, T* c_next, T* gates, int64_t batch, int64_t H,
                                         Order4 o) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T *x = gx + b * sx + j, *hh = gh + b * sh + j;
    const T i = gate_of<HARD>(x[o.k[0] * H] + hh[o.k[0] * H]);
    const T f = gate_of<HARD>(x[o.k[1] * H] + hh[o.k[1] * H]);
    const T g = tanh_of(x[o.k[2] * H] + hh[o.k[2] * H]);
    const T og = gate_of<HARD>(x[o.k[3] * H] + hh[o.k[3] * H]);
    const T cn = f * c[b * sc + j] + i * g;
    const T tc = tanh_of(cn);
    T* s = gates + b * 5 * H + j;  // i, f, g, o, tanh(c'): the CPU kernel's layout
    s[0] = i;
    s[H] = f;
    s[2 * H] = g;
    s[3 * H] = og;
    s[4 * H] = tc;
    c_next[idx] = cn;
    h_next[b * so + j] = og * tc;
  }
}

template <bool HARD, class T>
__global__ void lstm_cell_backward_kernel(const T* dh, int64_t sdh, const T* dcn, int64_t sdc, const T* gates,
                                          int64_t sg, const T* c, int64_t sc, T* dpre, int64_t so, T* dc_prev,
                                          int64_t batch, int64_t H, Order4 o) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T* s = gates + b * sg + j;
    const T i = s[0], f = s[H], g = s[2 * H], og = s[3 * H], tc = s[4 * H];
    const T gh = dh[b * sdh + j];
    // c' feeds h' through tanh and the next step directly: both paths meet here.
    const T dc = dcn[b * sdc + j] + gh * og * (T(1) - tc * tc);
    T* d = dpre + b * so + j;
    d[o.k[3] * H] = gh * tc * gate_slope<HARD>(og);
    d[o.k[0] * H] = dc * g * gate_slope<HARD>(i);
    d[o.k[1] * H] = dc * c[b * sc + j] * gate_slope<HARD>(f);
    d[o.k[2] * H] = dc * i * (T(1) - g * g);
    dc_prev[idx] = dc * f;
  }
}

template <bool HARD, class T>
__global__ void gru_cell_forward_kernel(const T* gx, int64_t sx, const T* gh, int64_t sh, const T* h, int64_t shp,
                                        T* h_next, int64_t so, T* gates, int64_t batch, int64_t H, Order3 o) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T *x = gx + b * sx + j, *hh = gh + b * sh + j;
    const T r = gate_of<HARD>(x[o.k[0] * H] + hh[o.k[0] * H]);
    const T z = gate_of<HARD>(x[o.k[1] * H] + hh[o.k[1] * H]);
    const T ghn = hh[o.k[2] * H];
    const T n = tanh_of(x[o.k[2] * H] + r * ghn);
    T* s = gates + b * 4 * H + j;  // r, z, n, gh_n (the reset gate's gradient needs gh_n)
    s[0] = r;
    s[H] = z;
    s[2 * H] = n;
    s[3 * H] = ghn;
    h_next[b * so + j] = n + z * (h[b * shp + j] - n);
  }
}

template <bool HARD, class T>
__global__ void gru_cell_backward_kernel(const T* g, int64_t sgr, const T* gates, int64_t sg, const T* h, int64_t shp,
                                         T* dx, int64_t sox, T* dhh, int64_t soh, T* dprev, int64_t batch, int64_t H,
                                         Order3 o) {
  DC_GRID_STRIDE_LOOP(idx, batch * H) {
    const int64_t b = idx / H, j = idx % H;
    const T* s = gates + b * sg + j;
    const T r = s[0], z = s[H], n = s[2 * H], ghn = s[3 * H];
    const T gg = g[b * sgr + j];
    const T dn = gg * (T(1) - z) * (T(1) - n * n);  // through tanh
    const T dz = gg * (h[b * shp + j] - n) * gate_slope<HARD>(z);
    const T dr = dn * ghn * gate_slope<HARD>(r);
    T *x = dx + b * sox + j, *hh = dhh + b * soh + j;
    x[o.k[2] * H] = dn;
    hh[o.k[2] * H] = dn * r;  // the reset gate scales only the hidden product
    x[o.k[0] * H] = hh[o.k[0] * H] = dr;
    x[o.k[1] * H] = hh[o.k[1] * H] = dz;
    dprev[idx] = gg * z;
  }
}

// ---- host-side checks (the CPU kernels' rules and messages) -------------------------------------

bool hard_gates(const std::string& name, const char* op) {
  if (name == "sigmoid" || name == "hard_sigmoid") return name == "hard_sigmoid";
  throw ValueError(std::string(op) + ": recurrent_activation must be 'sigmoid' or 'hard_sigmoid', got '" + name +
                   "'");
}

bool is_relu(const std::string& name, const char* op) {
  if (name == "tanh" || name == "relu") return name == "relu";
  throw ValueError(std::string(op) + ": nonlinearity must be 'tanh' or 'relu', got '" + name + "'");
}

template <int N>
void fill_order(const std::vector<int64_t>& order, int64_t (&out)[N], const char* op) {
  DC_CHECK(order.size() == N, op << ": order must list " << N << " gate blocks, got " << order.size());
  bool seen[N] = {};
  for (int k = 0; k < N; ++k) {
    DC_CHECK(order[k] >= 0 && order[k] < N && !seen[order[k]],
             op << ": order must be a permutation of 0.." << N - 1 << ", got entry " << order[k]);
    seen[order[k]] = true;
    out[k] = order[k];
  }
}

// Columns adjacent (rows may have any stride): gate blocks are then fixed offsets from a row's start.
NDArray unit_columns(const NDArray& a) { return (a.shape[1] <= 1 || a.strides[1] == 1) ? a : contiguous(a); }

int64_t row_stride(const NDArray& a) { return a.shape[0] > 1 ? a.strides[0] : 0; }

void check_matrix(const char* op, const char* what, const NDArray& a, int64_t rows, int64_t cols, DType dtype,
                  const NDArray& first) {
  detail::require_cuda(a, op);
  detail::require_same_device(a, first, op);
  DC_CHECK(a.ndim() == 2 && a.shape[0] == rows && a.shape[1] == cols,
           op << ": " << what << " must have shape (" << rows << ", " << cols << "), got " << shape_str(a.shape));
  DC_CHECK_TYPE(a.dtype == dtype, op << ": " << what << " is " << dtype_name(a.dtype) << " but the others are "
                                     << dtype_name(dtype));
}

// An output the caller gives (a step of its all-steps buffer) or a new array: the CPU kernels' rule, a given
// one is (rows, cols) of `dtype` on the device, columns adjacent, sharing no memory with the inputs.
NDArray output(const char* op, const char* what, const std::optional<NDArray>& out, int64_t rows, int64_t cols,
               DType dtype, int dev, std::initializer_list<const NDArray*> inputs) {
  if (!out) return empty({rows, cols}, dtype, dev);
  check_matrix(op, what, *out, rows, cols, dtype, *inputs.begin()[0]);
  DC_CHECK(cols <= 1 || out->strides[1] == 1, op << ": " << what << " must have adjacent columns (stride 1), got "
                                                 << "strides " << shape_str(out->strides));
  DC_CHECK(!has_internal_overlap(*out), op << ": " << what << " reaches one element through two indices");
  if (rows * cols == 0) return *out;
  const auto [lo, hi] = byte_range(*out);
  for (const NDArray* in : inputs) {
    if (in->numel() == 0) continue;
    const auto [a, b] = byte_range(*in);
    DC_CHECK(hi <= a || b <= lo, op << ": " << what << " shares memory with an input");
  }
  return *out;
}

// (batch, hidden) of a cell from its state, after checking the state is a 2-D float CUDA array.
std::pair<int64_t, int64_t> state_sizes(const char* op, const char* what, const NDArray& s) {
  detail::require_cuda(s, op);
  DC_CHECK(s.ndim() == 2 && s.shape[1] > 0, op << ": " << what << " must be 2-D (batch, hidden), got "
                                               << shape_str(s.shape));
  DC_CHECK_TYPE(s.dtype == DType::Float32 || s.dtype == DType::Float64,
                op << ": expected float32 or float64, got " << dtype_name(s.dtype));
  return {s.shape[0], s.shape[1]};
}

template <class F>
void dispatch_float(DType t, F&& f) {
  if (t == DType::Float32) return f(float{});
  return f(double{});  // state_sizes / the checks admitted only float32 and float64
}

}  // namespace

// ---- RNN --------------------------------------------------------------------------------------

NDArray rnn_cell_forward(const NDArray& gx_in, const NDArray& gh_in, const std::string& nonlinearity,
                         const std::optional<NDArray>& out_in) {
  const char* op = "cuda rnn_cell_forward";
  const bool relu = is_relu(nonlinearity, op);
  const auto sizes = state_sizes(op, "gx", gx_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "gh", gh_in, batch, H, gx_in.dtype, gx_in);
  const int dev = gx_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray h = output(op, "out", out_in, batch, H, gx_in.dtype, dev, {&gx_in, &gh_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in);
  if (batch * H == 0) return h;
  dispatch_float(gx.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (relu)
      DEEPCORE_LAUNCH(op, grid, kThreads, rnn_cell_forward_kernel<true, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), h.data<T>(), row_stride(h), batch, H);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, rnn_cell_forward_kernel<false, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), h.data<T>(), row_stride(h), batch, H);
  });
  return h;
}

NDArray rnn_cell_backward(const NDArray& grad_in, const NDArray& h_in, const std::string& nonlinearity,
                          const std::optional<NDArray>& out_in) {
  const char* op = "cuda rnn_cell_backward";
  const bool relu = is_relu(nonlinearity, op);
  const auto sizes = state_sizes(op, "h", h_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "grad_h", grad_in, batch, H, h_in.dtype, h_in);
  const int dev = h_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray out = output(op, "out", out_in, batch, H, h_in.dtype, dev, {&grad_in, &h_in});
  const NDArray g = unit_columns(grad_in), h = unit_columns(h_in);
  if (batch * H == 0) return out;
  dispatch_float(h.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (relu)  // h > 0 exactly where the pre-activation was
      DEEPCORE_LAUNCH(op, grid, kThreads, rnn_cell_backward_kernel<true, T>)(
          g.data<T>(), row_stride(g), h.data<T>(), row_stride(h), out.data<T>(), row_stride(out), batch, H);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, rnn_cell_backward_kernel<false, T>)(
          g.data<T>(), row_stride(g), h.data<T>(), row_stride(h), out.data<T>(), row_stride(out), batch, H);
  });
  return out;
}

// ---- LSTM -------------------------------------------------------------------------------------

std::tuple<NDArray, NDArray, NDArray> lstm_cell_forward(const NDArray& gx_in, const NDArray& gh_in,
                                                        const NDArray& c_in, const std::vector<int64_t>& order_in,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& h_out) {
  const char* op = "cuda lstm_cell_forward";
  const bool hard = hard_gates(recurrent_activation, op);
  Order4 o{};
  fill_order<4>(order_in, o.k, op);
  const auto sizes = state_sizes(op, "c", c_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "gx", gx_in, batch, 4 * H, c_in.dtype, c_in);
  check_matrix(op, "gh", gh_in, batch, 4 * H, c_in.dtype, c_in);
  const int dev = c_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray h_next = output(op, "h_out", h_out, batch, H, c_in.dtype, dev, {&c_in, &gx_in, &gh_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in), c = unit_columns(c_in);
  NDArray c_next = empty({batch, H}, c.dtype, dev);
  NDArray gates = empty({batch, 5 * H}, c.dtype, dev);
  if (batch == 0) return {h_next, c_next, gates};
  dispatch_float(c.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (hard)
      DEEPCORE_LAUNCH(op, grid, kThreads, lstm_cell_forward_kernel<true, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), c.data<T>(), row_stride(c), h_next.data<T>(),
          row_stride(h_next), c_next.data<T>(), gates.data<T>(), batch, H, o);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, lstm_cell_forward_kernel<false, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), c.data<T>(), row_stride(c), h_next.data<T>(),
          row_stride(h_next), c_next.data<T>(), gates.data<T>(), batch, H, o);
  });
  return {h_next, c_next, gates};
}

std::tuple<NDArray, NDArray> lstm_cell_backward(const NDArray& grad_h_in, const NDArray& grad_c_in,
                                                const NDArray& gates_in, const NDArray& c_in,
                                                const std::vector<int64_t>& order_in,
                                                const std::string& recurrent_activation,
                                                const std::optional<NDArray>& grad_pre_out) {
  const char* op = "cuda lstm_cell_backward";
  const bool hard = hard_gates(recurrent_activation, op);
  Order4 o{};
  fill_order<4>(order_in, o.k, op);
  const auto sizes = state_sizes(op, "c", c_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "grad_h", grad_h_in, batch, H, c_in.dtype, c_in);
  check_matrix(op, "grad_c", grad_c_in, batch, H, c_in.dtype, c_in);
  check_matrix(op, "gates", gates_in, batch, 5 * H, c_in.dtype, c_in);
  const int dev = c_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  const NDArray dh = unit_columns(grad_h_in), dc = unit_columns(grad_c_in), c = unit_columns(c_in);
  const NDArray gates = unit_columns(gates_in);
  NDArray dpre = output(op, "grad_pre_out", grad_pre_out, batch, 4 * H, c_in.dtype, dev,
                        {&c_in, &grad_h_in, &grad_c_in, &gates_in});
  NDArray dc_prev = empty({batch, H}, c.dtype, dev);
  if (batch == 0) return {dpre, dc_prev};
  dispatch_float(c.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (hard)
      DEEPCORE_LAUNCH(op, grid, kThreads, lstm_cell_backward_kernel<true, T>)(
          dh.data<T>(), row_stride(dh), dc.data<T>(), row_stride(dc), gates.data<T>(), row_stride(gates),
          c.data<T>(), row_stride(c), dpre.data<T>(), row_stride(dpre), dc_prev.data<T>(), batch, H, o);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, lstm_cell_backward_kernel<false, T>)(
          dh.data<T>(), row_stride(dh), dc.data<T>(), row_stride(dc), gates.data<T>(), row_stride(gates),
          c.data<T>(), row_stride(c), dpre.data<T>(), row_stride(dpre), dc_prev.data<T>(), batch, H, o);
  });
  return {dpre, dc_prev};
}

// ---- GRU --------------------------------------------------------------------------------------

std::tuple<NDArray, NDArray> gru_cell_forward(const NDArray& gx_in, const NDArray& gh_in, const NDArray& h_in,
                                              const std::vector<int64_t>& order_in,
                                              const std::string& recurrent_activation,
                                              const std::optional<NDArray>& h_out) {
  const char* op = "cuda gru_cell_forward";
  const bool hard = hard_gates(recurrent_activation, op);
  Order3 o{};
  fill_order<3>(order_in, o.k, op);
  const auto sizes = state_sizes(op, "h", h_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "gx", gx_in, batch, 3 * H, h_in.dtype, h_in);
  check_matrix(op, "gh", gh_in, batch, 3 * H, h_in.dtype, h_in);
  const int dev = h_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  NDArray h_next = output(op, "h_out", h_out, batch, H, h_in.dtype, dev, {&h_in, &gx_in, &gh_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in), h = unit_columns(h_in);
  NDArray gates = empty({batch, 4 * H}, h.dtype, dev);
  if (batch == 0) return {h_next, gates};
  dispatch_float(h.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (hard)
      DEEPCORE_LAUNCH(op, grid, kThreads, gru_cell_forward_kernel<true, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), h.data<T>(), row_stride(h), h_next.data<T>(),
          row_stride(h_next), gates.data<T>(), batch, H, o);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, gru_cell_forward_kernel<false, T>)(
          gx.data<T>(), row_stride(gx), gh.data<T>(), row_stride(gh), h.data<T>(), row_stride(h), h_next.data<T>(),
          row_stride(h_next), gates.data<T>(), batch, H, o);
  });
  return {h_next, gates};
}

std::tuple<NDArray, NDArray, NDArray> gru_cell_backward(const NDArray& grad_in, const NDArray& gates_in,
                                                        const NDArray& h_in, const std::vector<int64_t>& order_in,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& grad_gx_out,
                                                        const std::optional<NDArray>& grad_gh_out) {
  const char* op = "cuda gru_cell_backward";
  const bool hard = hard_gates(recurrent_activation, op);
  Order3 o{};
  fill_order<3>(order_in, o.k, op);
  const auto sizes = state_sizes(op, "h", h_in);
  const int64_t batch = sizes.first, H = sizes.second;
  check_matrix(op, "grad_h", grad_in, batch, H, h_in.dtype, h_in);
  check_matrix(op, "gates", gates_in, batch, 4 * H, h_in.dtype, h_in);
  const int dev = h_in.storage->device_index;
  detail::DeviceGuard guard(dev, op);
  const NDArray g = unit_columns(grad_in), h = unit_columns(h_in), gates = unit_columns(gates_in);
  NDArray dx = output(op, "grad_gx_out", grad_gx_out, batch, 3 * H, h_in.dtype, dev, {&h_in, &grad_in, &gates_in});
  NDArray dhh = output(op, "grad_gh_out", grad_gh_out, batch, 3 * H, h_in.dtype, dev,
                       {&h_in, &grad_in, &gates_in, &dx});
  NDArray dprev = empty({batch, H}, h.dtype, dev);
  if (batch == 0) return {dx, dhh, dprev};
  dispatch_float(h.dtype, [&](auto tv) {
    using T = decltype(tv);
    const unsigned grid = detail::grid_for(batch * H);
    if (hard)
      DEEPCORE_LAUNCH(op, grid, kThreads, gru_cell_backward_kernel<true, T>)(
          g.data<T>(), row_stride(g), gates.data<T>(), row_stride(gates), h.data<T>(), row_stride(h), dx.data<T>(),
          row_stride(dx), dhh.data<T>(), row_stride(dhh), dprev.data<T>(), batch, H, o);
    else
      DEEPCORE_LAUNCH(op, grid, kThreads, gru_cell_backward_kernel<false, T>)(
          g.data<T>(), row_stride(g), gates.data<T>(), row_stride(gates), h.data<T>(), row_stride(h), dx.data<T>(),
          row_stride(dx), dhh.data<T>(), row_stride(dhh), dprev.data<T>(), batch, H, o);
  });
  return {dx, dhh, dprev};
}

}  // namespace deepcore::cuda
