// Activations and their backward passes, forward and backward side by side.
#include "cpu/activation.h"

#include <cmath>
#include <limits>

#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

namespace {

void check_same(const char* op, const NDArray& grad, const NDArray& y) {
  check_device(grad, Device::CPU, op);
  check_device(y, Device::CPU, op);
  DC_CHECK(grad.shape == y.shape, op << ": gradient shape " << shape_str(grad.shape)
                                     << " does not match the saved tensor's shape " << shape_str(y.shape));
  DC_CHECK_TYPE(grad.dtype == y.dtype, op << ": gradient dtype " << dtype_name(grad.dtype)
                                          << " does not match the saved tensor's dtype " << dtype_name(y.dtype));
}

// out = f(grad, y) elementwise over same-shaped, possibly strided operands;
// contiguous runs call vec_run(vec::kernels<T>(), g, y, out, n) instead.
template <class F, class VecRun>
NDArray backward_map(const char* op, const NDArray& grad, const NDArray& y, const F& f, const VecRun& vec_run) {
  check_same(op, grad, y);
  NDArray out = empty(y.shape, y.dtype);
  StridedLoop<3> loop(y.shape, {out.strides, grad.strides, y.strides});
  dispatch_float(y.dtype, op, [&]<class T>() {
    T* po = out.data<T>();
    const T* pg = grad.data<T>();
    const T* py = y.data<T>();
    const vec::Kernels<T>& k = vec::kernels<T>();
    loop.run(kElementwiseGrain, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
      T* o = po + off[0];
      const T* g = pg + off[1];
      const T* v = py + off[2];
      if (st[0] == 1 && st[1] == 1 && st[2] == 1)
        vec_run(k, g, v, o, n);
      else
        for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(g[i * st[1]], v[i * st[2]]);
    });
  });
  return out;
}

// Softmax-like ops see a contiguous tensor as (outer, n, inner) around `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
  AxisView(const NDArray& a, int64_t axis, const char* op) {
    int nd = a.ndim();
    int64_t lim = nd == 0 ? 1 : nd;
    DC_CHECK(axis >= -lim && axis < lim, op << ": dim " << axis << " is out of range for a tensor with " << nd
                                            << " dimension(s)");
    if (nd == 0) return;
    if (axis < 0) axis += nd;
    for (int d = 0; d < nd; ++d) (d < axis ? outer : d == axis ? n : inner) *= a.shape[d];
  }
};

template <bool LOG>
NDArray softmax_forward(const NDArray& x_in, int64_t axis) {
  const char* op = LOG ? "log_softmax" : "softmax";
  check_device(x_in, Device::CPU, op);
  NDArray x = contiguous(x_in);
  AxisView v(x, axis, op);
  NDArray out = empty(x.shape, x.dtype);
  dispatch_float(x.dtype, op, [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t n = v.n, inner = v.inner;
    const vec::Kernels<T>& k = vec::kernels<T>();
    parallel_for(v.outer * inner, std::max<int64_t>(1, kTranscendentalGrain / std::max<int64_t>(n, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t row = b; row < e; ++row) {
                     const int64_t base = (row / inner) * n * inner + row % inner;
                     const T* xi = px + base;
                     T* oi = po + base;
                     if (inner == 1) {  // the usual case (classes last): contiguous rows, vector passes
                       T m = k.row_max(xi, n);
                       if (!std::isfinite(m)) m = (m != m) ? m : T(0);
                       if constexpr (LOG) {
                         k.sub_sub(xi, m, std::log(k.sum_exp_shifted(xi, m, n)), oi, n);
                       } else {
                         k.arith_scalar[vec::kMul](oi, T(1) / k.exp_shifted_sum(xi, m, oi, n), oi, n);
                       }
                       continue;
                     }
                     // Subtract the max so exp never overflows.
                     T m = -std::numeric_limits<T>::infinity();
                     for (int64_t i = 0; i < n; ++i) m = std::max(m, xi[i * inner]);
                     if (!std::isfinite(m)) m = (m != m) ? m : T(0);
                     T s = 0;
                     for (int64_t i = 0; i < n; ++i) {
                       T ex = std::exp(xi[i * inner] - m);
                       if constexpr (!LOG) oi[i * inner] = ex;
                       s += ex;
                     }
                     if constexpr (LOG) {
                       // (x - m) - log(s), not x - (m + log(s)): with a large |m| the sum rounds log(s) away.
                       const T log_s = std::log(s);
                       for (int64_t i = 0; i < n; ++i) oi[i * inner] = (xi[i * inner] - m) - log_s;
                     } else {
                       const T inv = T(1) / s;
                       for (int64_t i = 0; i < n; ++i) oi[i * inner] *= inv;
                     }
                   }
                 });
  });
  return out;
}

template <bool LOG>
NDArray softmax_backward_impl(const NDArray& grad_in, const NDArray& y_in, int64_t axis) {
  const char* op = LOG ? "log_softmax_backward" : "softmax_backward";
  check_same(op, grad_in, y_in);
  NDArray g = contiguous(grad_in), y = contiguous(y_in);
  AxisView v(y, axis, op);
  NDArray out = empty(y.shape, y.dtype);
  dispatch_float(y.dtype, op, [&]<class T>() {
    const T* pg = g.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    const int64_t n = v.n, inner = v.inner;
    const vec::Kernels<T>& k = vec::kernels<T>();
    parallel_for(v.outer * inner, std::max<int64_t>(1, kTranscendentalGrain / std::max<int64_t>(n, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t row = b; row < e; ++row) {
                     const int64_t base = (row / inner) * n * inner + row % inner;
                     const T *gi = pg + base, *yi = py + base;
                     T* oi = po + base;
                     double s = 0;
                     if constexpr (LOG) {
                       // d/dx log_softmax: g - softmax * sum(g)
                       for (int64_t i = 0; i < n; ++i) s += gi[i * inner];
                       if (inner == 1) {
                         k.exp(yi, oi, n);
                         for (int64_t i = 0; i < n; ++i) oi[i] = gi[i] - oi[i] * T(s);
                       } else {
                         for (int64_t i = 0; i < n; ++i) oi[i * inner] = gi[i * inner] - std::exp(yi[i * inner]) * T(s);
                       }
                     } else {
                       // d/dx softmax: y * (g - sum(g * y))
                       for (int64_t i = 0; i < n; ++i) s += double(gi[i * inner]) * yi[i * inner];
                       for (int64_t i = 0; i < n; ++i) oi[i * inner] = yi[i * inner] * (gi[i * inner] - T(s));
                     }
                   }
                 });
  });
  return out;
}

}  // namespace

NDArray leaky_relu(const NDArray& x, double slope) {
  check_device(x, Device::CPU, "leaky_relu");
  NDArray out = empty(x.shape, x.dtype);
  StridedLoop<2> loop(x.shape, {out.strides, x.strides});
  dispatch_float(x.dtype, "leaky_relu", [&]<class T>() {
    const T s = static_cast<T>(slope);
    T* po = out.data<T>();
    const T* px = x.data<T>();
    const vec::Kernels<T>& k = vec::kernels<T>();
    loop.run(kElementwiseGrain, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
      if (st[0] == 1 && st[1] == 1) return k.leaky_relu(px + off[1], s, po + off[0], n);
      for (int64_t i = 0; i < n; ++i) {
        T v = px[off[1] + i * st[1]];
        po[off[0] + i * st[0]] = v > T(0) ? v : v * s;
      }
    });
  });
  return out;
}

NDArray leaky_relu_backward(const NDArray& grad, const NDArray& x, double slope) {
  return dispatch_float(x.dtype, "leaky_relu_backward", [&]<class T>() {
    const T s = static_cast<T>(slope);
    // slope 0 (relu): exactly 0 where x <= 0, even for an infinite gradient.
    return backward_map(
        "leaky_relu_backward", grad, x, [s](T g, T v) { return v > T(0) ? g : s == T(0) ? T(0) : g * s; },
        [s](const auto& k, const auto* g, const auto* v, auto* o, int64_t n) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(*g)>, T>) k.leaky_relu_backward(g, v, s, o, n);
        });
  });
}

NDArray tanh_backward(const NDArray& grad, const NDArray& y) {
  return backward_map(
      "tanh_backward", grad, y, [](auto g, auto v) { return g * (decltype(v)(1) - v * v); },
      [](const auto& k, const auto* g, const auto* v, auto* o, int64_t n) { k.tanh_backward(g, v, o, n); });
}

NDArray sigmoid_backward(const NDArray& grad, const NDArray& y) {
  return backward_map(
      "sigmoid_backward", grad, y, [](auto g, auto v) { return g * v * (decltype(v)(1) - v); },
      [](const auto& k, const auto* g, const auto* v, auto* o, int64_t n) { k.sigmoid_backward(g, v, o, n); });
}

NDArray softmax(const NDArray& x, int64_t axis) { return softmax_forward<false>(x, axis); }
NDArray log_softmax(const NDArray& x, int64_t axis) { return softmax_forward<true>(x, axis); }
NDArray softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis) {
  return softmax_backward_impl<false>(grad, y, axis);
}
NDArray log_softmax_backward(const NDArray& grad, const NDArray& y, int64_t axis) {
  return softmax_backward_impl<true>(grad, y, axis);
}

}  // namespace deepcore::cpu
