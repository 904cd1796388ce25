// The recurrent cells' gate arithmetic (RNN, LSTM, GRU), forward and backward side by side: one pass
// over the batch rows per time step, in place of a dozen elementwise kernels and autograd nodes.
#include "cpu/recurrent.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/overlap.h"
#include "common/parallel.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

namespace {

enum class GateKind { Sigmoid, HardSigmoid };

GateKind gate_kind(const std::string& name, const char* op) {
  if (name == "sigmoid") return GateKind::Sigmoid;
  if (name == "hard_sigmoid") return GateKind::HardSigmoid;
  throw ValueError(std::string(op) + ": recurrent_activation must be 'sigmoid' or 'hard_sigmoid', got '" + name +
                   "'");
}

bool is_relu(const std::string& name, const char* op) {
  if (name == "tanh" || name == "relu") return name == "relu";
  throw ValueError(std::string(op) + ": nonlinearity must be 'tanh' or 'relu', got '" + name + "'");
}

// The gates' activation over a contiguous run, in place. Keras 2's hard_sigmoid is clip(0.2 x + 0.5, 0, 1);
// written with comparisons so that NaN propagates, as the composed clamp does.
template <class T>
void squash_gates(const vec::Kernels<T>& k, GateKind kind, T* x, int64_t n) {
  if (kind == GateKind::Sigmoid) {
    k.sigmoid(x, x, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i] * T(0.2) + T(0.5);
    x[i] = v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
  }
}

// d gate / d pre-activation from the gate's value y. hard_sigmoid: 0.2 strictly inside (0, 1); the clamp's
// boundary points (measure zero) get 0 here.
template <GateKind KIND, class T>
inline T gate_slope(T y) {
  if constexpr (KIND == GateKind::Sigmoid)
    return y * (T(1) - y);
  else
    return (y > T(0) && y < T(1)) ? T(0.2) : T(0);
}

// One row of the LSTM backward. The gate kind is a template argument and the pointers are restrict-qualified
// (every output block is its own buffer) so that the loop vectorizes.
template <GateKind KIND, class T>
void lstm_backward_row(const T* __restrict s, const T* __restrict dh, const T* __restrict dcn,
                       const T* __restrict cp, T* __restrict di, T* __restrict df, T* __restrict dg,
                       T* __restrict dout, T* __restrict dcp, int64_t H) {
  const T *i = s, *f = s + H, *g = s + 2 * H, *o = s + 3 * H, *tc = s + 4 * H;
  for (int64_t j = 0; j < H; ++j) {
    // c' feeds h' through tanh and the next step directly: both paths meet here.
    const T dc = dcn[j] + dh[j] * o[j] * (T(1) - tc[j] * tc[j]);
    dout[j] = dh[j] * tc[j] * gate_slope<KIND>(o[j]);
    di[j] = dc * g[j] * gate_slope<KIND>(i[j]);
    df[j] = dc * cp[j] * gate_slope<KIND>(f[j]);
    dg[j] = dc * i[j] * (T(1) - g[j] * g[j]);
    dcp[j] = dc * f[j];
  }
}

// One row of the GRU backward (gates r, z, n, gh_n); gx's and gh's r and z gradients are equal.
template <GateKind KIND, class T>
void gru_backward_row(const T* __restrict s, const T* __restrict g, const T* __restrict hp, T* __restrict dxr,
                      T* __restrict dxz, T* __restrict dxn, T* __restrict dhr, T* __restrict dhz,
                      T* __restrict dhn, T* __restrict dprev, int64_t H) {
  const T *r = s, *z = s + H, *n = s + 2 * H, *ghn = s + 3 * H;
  for (int64_t j = 0; j < H; ++j) {
    const T dn = g[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);  // through tanh
    const T dz = g[j] * (hp[j] - n[j]) * gate_slope<KIND>(z[j]);
    const T dr = dn * ghn[j] * gate_slope<KIND>(r[j]);
    dxn[j] = dn;
    dhn[j] = dn * r[j];  // the reset gate scales only the hidden product
    dxr[j] = dhr[j] = dr;
    dxz[j] = dhz[j] = dz;
    dprev[j] = g[j] * z[j];
  }
}

// Rows may have any stride (a step's slice of the all-steps projection); columns must be adjacent so
// the gate blocks are contiguous runs for the vector math. Broadcast or transposed columns are copied.
NDArray unit_columns(const NDArray& a) {
  return (a.shape[1] <= 1 || a.strides[1] == 1) ? a : contiguous(a);
}

struct Rows {
  const void* data;
  int64_t stride;
  template <class T>
  const T* row(int64_t b) const { return static_cast<const T*>(data) + b * stride; }
};

Rows rows_of(const NDArray& a) { return {a.raw(), a.shape[0] > 1 ? a.strides[0] : 0}; }

struct OutRows {
  void* data;
  int64_t stride;
  template <class T>
  T* row(int64_t b) const { return static_cast<T*>(data) + b * stride; }
};

OutRows out_rows(const NDArray& a) { return {a.raw(), a.shape[0] > 1 ? a.strides[0] : 0}; }

void check_matrix(const char* op, const char* what, const NDArray& a, int64_t rows, int64_t cols, DType dtype) {
  check_device(a, Device::CPU, op);
  DC_CHECK(a.ndim() == 2 && a.shape[0] == rows && a.shape[1] == cols,
           op << ": " << what << " must have shape (" << rows << ", " << cols << "), got " << shape_str(a.shape));
  DC_CHECK_TYPE(a.dtype == dtype, op << ": " << what << " is " << dtype_name(a.dtype) << " but the others are "
                                     << dtype_name(dtype));
}

// An output the caller gives (one step of its all-steps buffer, saving a copy per step) or a new array.
// A given one must be (rows, cols) of `dtype` with adjacent columns and share no memory with the inputs:
// the kernels write it row by row while still reading them.
NDArray output(const char* op, const char* what, const std::optional<NDArray>& out, int64_t rows, int64_t cols,
               DType dtype, std::initializer_list<const NDArray*> inputs) {
  if (!out) return empty({rows, cols}, dtype);
  check_matrix(op, what, *out, rows, cols, dtype);
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

// (batch, hidden) from the projection gx (batch, gates * hidden) and the state (batch, hidden).
std::array<int64_t, 2> cell_sizes(const char* op, const NDArray& gx, const NDArray& state, int64_t gates) {
  check_device(gx, Device::CPU, op);
  check_device(state, Device::CPU, op);
  DC_CHECK(gx.ndim() == 2 && state.ndim() == 2, op << ": expected 2-D projections and state, got gx "
                                                   << shape_str(gx.shape) << " and state " << shape_str(state.shape));
  const int64_t batch = state.shape[0], hidden = state.shape[1];
  DC_CHECK(hidden > 0 && gx.shape[0] == batch && gx.shape[1] == gates * hidden,
           op << ": gx must have shape (" << batch << ", " << gates << " * " << hidden << ") for a state of shape "
              << shape_str(state.shape) << ", got " << shape_str(gx.shape));
  return {batch, hidden};
}

template <size_t N>
std::array<int64_t, N> check_order(const std::vector<int64_t>& order, const char* op) {
  DC_CHECK(order.size() == N, op << ": order must list " << N << " gate blocks, got " << order.size());
  std::array<int64_t, N> out{};
  std::array<bool, N> seen{};
  for (size_t k = 0; k < N; ++k) {
    DC_CHECK(order[k] >= 0 && order[k] < int64_t(N) && !seen[order[k]],
             op << ": order must be a permutation of 0.." << N - 1 << ", got entry " << order[k]);
    seen[order[k]] = true;
    out[k] = order[k];
  }
  return out;
}

// Rows per thread chunk. A cell runs once per time step between two GEMMs, so it forks and joins twice per
// step each way; at the usual sizes its whole work is ~50 us, which a second thread cuts by ~20 us on an
// idle machine, while on a busy one a join that waits for a descheduled thread costs milliseconds
// (measured, 2 threads on 2 shared cores at load ~5: lstm_cell_forward (128 x 128) 2.4 ms per call against
// 0.13 ms on one thread). So a thread gets 4x the elementwise kernels' transcendental grain.
constexpr int64_t kCellGrain = 4 * kTranscendentalGrain;

int64_t row_grain(int64_t row_width) {
  return std::max<int64_t>(1, kCellGrain / std::max<int64_t>(row_width, 1));
}

}  // namespace

// ---- RNN ------------------------------------------------------------------------------------------

NDArray rnn_cell_forward(const NDArray& gx_in, const NDArray& gh_in, const std::string& nonlinearity,
                         const std::optional<NDArray>& out_in) {
  const char* op = "rnn_cell_forward";
  const bool relu = is_relu(nonlinearity, op);
  check_device(gx_in, Device::CPU, op);
  DC_CHECK(gx_in.ndim() == 2, op << ": gx must be 2-D (batch, hidden), got " << shape_str(gx_in.shape));
  const int64_t batch = gx_in.shape[0], hidden = gx_in.shape[1];
  check_matrix(op, "gh", gh_in, batch, hidden, gx_in.dtype);
  NDArray h = output(op, "out", out_in, batch, hidden, gx_in.dtype, {&gx_in, &gh_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in);
  const Rows rx = rows_of(gx), rh = rows_of(gh);
  const OutRows ro = out_rows(h);
  dispatch_float(gx.dtype, op, [&]<class T>() {
    const vec::Kernels<T>& k = vec::kernels<T>();
    parallel_for(batch, row_grain(hidden), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* out = ro.row<T>(b);
        k.arith[vec::kAdd](rx.row<T>(b), rh.row<T>(b), out, hidden);
        if (relu)
          k.relu(out, out, hidden);
        else
          k.tanh(out, out, hidden);
      }
    });
  });
  return h;
}

NDArray rnn_cell_backward(const NDArray& grad_in, const NDArray& h_in, const std::string& nonlinearity,
                          const std::optional<NDArray>& out_in) {
  const char* op = "rnn_cell_backward";
  const bool relu = is_relu(nonlinearity, op);
  check_device(h_in, Device::CPU, op);
  DC_CHECK(h_in.ndim() == 2, op << ": h must be 2-D (batch, hidden), got " << shape_str(h_in.shape));
  const int64_t batch = h_in.shape[0], hidden = h_in.shape[1];
  check_matrix(op, "grad_h", grad_in, batch, hidden, h_in.dtype);
  NDArray out = output(op, "out", out_in, batch, hidden, h_in.dtype, {&grad_in, &h_in});
  const NDArray grad = unit_columns(grad_in), h = unit_columns(h_in);
  const Rows rg = rows_of(grad), rh = rows_of(h);
  const OutRows ro = out_rows(out);
  dispatch_float(h.dtype, op, [&]<class T>() {
    const vec::Kernels<T>& k = vec::kernels<T>();
    parallel_for(batch, row_grain(hidden), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        if (relu)  // h > 0 exactly where the pre-activation was: relu's backward from its output
          k.leaky_relu_backward(rg.row<T>(b), rh.row<T>(b), T(0), ro.row<T>(b), hidden);
        else
          k.tanh_backward(rg.row<T>(b), rh.row<T>(b), ro.row<T>(b), hidden);
      }
    });
  });
  return out;
}

// ---- LSTM -----------------------------------------------------------------------------------------

std::tuple<NDArray, NDArray, NDArray> lstm_cell_forward(const NDArray& gx_in, const NDArray& gh_in,
                                                        const NDArray& c_in, const std::vector<int64_t>& order_in,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& h_out) {
  const char* op = "lstm_cell_forward";
  const GateKind kind = gate_kind(recurrent_activation, op);
  const auto order = check_order<4>(order_in, op);
  const auto sizes = cell_sizes(op, gx_in, c_in, 4);
  const int64_t batch = sizes[0], hidden = sizes[1];
  check_matrix(op, "gh", gh_in, batch, 4 * hidden, gx_in.dtype);
  check_matrix(op, "c", c_in, batch, hidden, gx_in.dtype);
  NDArray h_next = output(op, "h_out", h_out, batch, hidden, gx_in.dtype, {&gx_in, &gh_in, &c_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in), c = unit_columns(c_in);
  NDArray c_next = empty({batch, hidden}, gx.dtype), gates = empty({batch, 5 * hidden}, gx.dtype);
  const Rows rx = rows_of(gx), rh = rows_of(gh), rc = rows_of(c);
  const OutRows rn = out_rows(h_next);
  dispatch_float(gx.dtype, op, [&]<class T>() {
    const vec::Kernels<T>& k = vec::kernels<T>();
    T *pc = c_next.data<T>(), *pg = gates.data<T>();
    const int64_t H = hidden;
    parallel_for(batch, row_grain(5 * H), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* s = pg + b * 5 * H;  // i, f, g, o, tanh(c')
        const T *x = rx.row<T>(b), *hh = rh.row<T>(b), *cp = rc.row<T>(b);
        for (int k4 = 0; k4 < 4; ++k4) k.arith[vec::kAdd](x + order[k4] * H, hh + order[k4] * H, s + k4 * H, H);
        squash_gates(k, kind, s, 2 * H);  // i, f
        k.tanh(s + 2 * H, s + 2 * H, H);  // g
        squash_gates(k, kind, s + 3 * H, H);  // o
        T *cn = pc + b * H, *hn = rn.row<T>(b), *tc = s + 4 * H;
        const T *i = s, *f = s + H, *g = s + 2 * H, *o = s + 3 * H;
        for (int64_t j = 0; j < H; ++j) cn[j] = f[j] * cp[j] + i[j] * g[j];
        k.tanh(cn, tc, H);
        k.arith[vec::kMul](o, tc, hn, H);
      }
    });
  });
  return {h_next, c_next, gates};
}

std::tuple<NDArray, NDArray> lstm_cell_backward(const NDArray& grad_h_in, const NDArray& grad_c_in,
                                                const NDArray& gates_in, const NDArray& c_in,
                                                const std::vector<int64_t>& order_in,
                                                const std::string& recurrent_activation,
                                                const std::optional<NDArray>& grad_pre_out) {
  const char* op = "lstm_cell_backward";
  const GateKind kind = gate_kind(recurrent_activation, op);
  const auto order = check_order<4>(order_in, op);
  check_device(c_in, Device::CPU, op);
  DC_CHECK(c_in.ndim() == 2 && c_in.shape[1] > 0, op << ": c must be 2-D (batch, hidden), got " << shape_str(c_in.shape));
  const int64_t batch = c_in.shape[0], H = c_in.shape[1];
  check_matrix(op, "grad_h", grad_h_in, batch, H, c_in.dtype);
  check_matrix(op, "grad_c", grad_c_in, batch, H, c_in.dtype);
  check_matrix(op, "gates", gates_in, batch, 5 * H, c_in.dtype);
  NDArray grad_pre = output(op, "grad_pre_out", grad_pre_out, batch, 4 * H, c_in.dtype,
                            {&grad_h_in, &grad_c_in, &gates_in, &c_in});
  const NDArray grad_h = unit_columns(grad_h_in), grad_c = unit_columns(grad_c_in), c = unit_columns(c_in);
  const NDArray gates = unit_columns(gates_in);
  NDArray grad_c_prev = empty({batch, H}, c.dtype);
  const Rows rgh = rows_of(grad_h), rgc = rows_of(grad_c), rc = rows_of(c), rs = rows_of(gates);
  const OutRows rd = out_rows(grad_pre);
  dispatch_float(c.dtype, op, [&]<class T>() {
    T* pcp = grad_c_prev.data<T>();
    parallel_for(batch, row_grain(5 * H), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* d = rd.row<T>(b);
        T *di = d + order[0] * H, *df = d + order[1] * H, *dg = d + order[2] * H, *dout = d + order[3] * H;
        if (kind == GateKind::Sigmoid)
          lstm_backward_row<GateKind::Sigmoid, T>(rs.row<T>(b), rgh.row<T>(b), rgc.row<T>(b), rc.row<T>(b), di, df,
                                                  dg, dout, pcp + b * H, H);
        else
          lstm_backward_row<GateKind::HardSigmoid, T>(rs.row<T>(b), rgh.row<T>(b), rgc.row<T>(b), rc.row<T>(b), di,
                                                      df, dg, dout, pcp + b * H, H);
      }
    });
  });
  return {grad_pre, grad_c_prev};
}

// ---- GRU ------------------------------------------------------------------------------------------

std::tuple<NDArray, NDArray> gru_cell_forward(const NDArray& gx_in, const NDArray& gh_in, const NDArray& h_in,
                                              const std::vector<int64_t>& order_in,
                                              const std::string& recurrent_activation,
                                              const std::optional<NDArray>& h_out) {
  const char* op = "gru_cell_forward";
  const GateKind kind = gate_kind(recurrent_activation, op);
  const auto order = check_order<3>(order_in, op);
  const auto sizes = cell_sizes(op, gx_in, h_in, 3);
  const int64_t batch = sizes[0], hidden = sizes[1];
  check_matrix(op, "gh", gh_in, batch, 3 * hidden, gx_in.dtype);
  check_matrix(op, "h", h_in, batch, hidden, gx_in.dtype);
  NDArray h_next = output(op, "h_out", h_out, batch, hidden, gx_in.dtype, {&gx_in, &gh_in, &h_in});
  const NDArray gx = unit_columns(gx_in), gh = unit_columns(gh_in), h = unit_columns(h_in);
  NDArray gates = empty({batch, 4 * hidden}, gx.dtype);
  const Rows rx = rows_of(gx), rgh = rows_of(gh), rh = rows_of(h);
  const OutRows rn = out_rows(h_next);
  dispatch_float(gx.dtype, op, [&]<class T>() {
    const vec::Kernels<T>& k = vec::kernels<T>();
    T* pg = gates.data<T>();
    const int64_t H = hidden;
    parallel_for(batch, row_grain(4 * H), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* s = pg + b * 4 * H;  // r, z, n, gh_n
        const T *x = rx.row<T>(b), *hh = rgh.row<T>(b), *hp = rh.row<T>(b);
        k.arith[vec::kAdd](x + order[0] * H, hh + order[0] * H, s, H);
        k.arith[vec::kAdd](x + order[1] * H, hh + order[1] * H, s + H, H);
        squash_gates(k, kind, s, 2 * H);
        T *r = s, *z = s + H, *n = s + 2 * H, *ghn = s + 3 * H;
        const T *xn = x + order[2] * H, *hn = hh + order[2] * H;
        for (int64_t j = 0; j < H; ++j) {
          ghn[j] = hn[j];  // kept: the reset gate's gradient needs it
          n[j] = xn[j] + r[j] * hn[j];
        }
        k.tanh(n, n, H);
        T* out = rn.row<T>(b);
        for (int64_t j = 0; j < H; ++j) out[j] = n[j] + z[j] * (hp[j] - n[j]);
      }
    });
  });
  return {h_next, gates};
}

std::tuple<NDArray, NDArray, NDArray> gru_cell_backward(const NDArray& grad_in, const NDArray& gates_in,
                                                        const NDArray& h_in, const std::vector<int64_t>& order_in,
                                                        const std::string& recurrent_activation,
                                                        const std::optional<NDArray>& grad_gx_out,
                                                        const std::optional<NDArray>& grad_gh_out) {
  const char* op = "gru_cell_backward";
  const GateKind kind = gate_kind(recurrent_activation, op);
  const auto order = check_order<3>(order_in, op);
  check_device(h_in, Device::CPU, op);
  DC_CHECK(h_in.ndim() == 2 && h_in.shape[1] > 0, op << ": h must be 2-D (batch, hidden), got " << shape_str(h_in.shape));
  const int64_t batch = h_in.shape[0], H = h_in.shape[1];
  check_matrix(op, "grad_h", grad_in, batch, H, h_in.dtype);
  check_matrix(op, "gates", gates_in, batch, 4 * H, h_in.dtype);
  NDArray grad_gx = output(op, "grad_gx_out", grad_gx_out, batch, 3 * H, h_in.dtype, {&grad_in, &gates_in, &h_in});
  NDArray grad_gh = output(op, "grad_gh_out", grad_gh_out, batch, 3 * H, h_in.dtype,
                           {&grad_in, &gates_in, &h_in, &grad_gx});
  const NDArray grad = unit_columns(grad_in), h = unit_columns(h_in), gates = unit_columns(gates_in);
  NDArray grad_h_prev = empty({batch, H}, h.dtype);
  const Rows rg = rows_of(grad), rh = rows_of(h), rs = rows_of(gates);
  const OutRows rx = out_rows(grad_gx), rhh = out_rows(grad_gh);
  dispatch_float(h.dtype, op, [&]<class T>() {
    T* pp = grad_h_prev.data<T>();
    parallel_for(batch, row_grain(4 * H), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T *dx = rx.row<T>(b), *dh = rhh.row<T>(b);
        T *dxr = dx + order[0] * H, *dxz = dx + order[1] * H, *dxn = dx + order[2] * H;
        T *dhr = dh + order[0] * H, *dhz = dh + order[1] * H, *dhn = dh + order[2] * H;
        if (kind == GateKind::Sigmoid)
          gru_backward_row<GateKind::Sigmoid, T>(rs.row<T>(b), rg.row<T>(b), rh.row<T>(b), dxr, dxz, dxn, dhr, dhz,
                                                 dhn, pp + b * H, H);
        else
          gru_backward_row<GateKind::HardSigmoid, T>(rs.row<T>(b), rg.row<T>(b), rh.row<T>(b), dxr, dxz, dxn, dhr,
                                                     dhz, dhn, pp + b * H, H);
      }
    });
  });
  return {grad_gx, grad_gh, grad_h_prev};
}

}  // namespace deepcore::cpu
