// The pointwise activations, activation / activation_backward (csrc/cpu/activation.h): ELU,
// SELU, CELU, GELU, SiLU, Mish, Softplus, Hardtanh, Hardsigmoid, Hardswish, LogSigmoid,
// Softsign, Threshold, one kernel pair chosen by kind.
//
// Each kind is a chunk function over contiguous pointers: scalar loops that prepare the
// argument of a transcendental, the vector kernel itself (k.exp, k.sigmoid, k.log), then a
// scalar loop that combines. Both sides of every choice are computed before it is made, so
// the loops have no branches and auto-vectorize (GCC will not speculate a floating-point
// operation that sits in only one arm of a ?: unless told that floating point never traps,
// hence the pragma; and it will not load conditionally, hence every operand read up front).
// float64's vector kernels are the C library's. Strided operands are gathered into a chunk
// buffer first and scattered back after, so every kind is written once for every layout.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "cpu/activation.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

namespace {

// |v|, min and max with std::min/max's NaN rule (the first argument is returned when the
// comparison is false), defined under this section's options: GCC will not inline std::fabs,
// std::min or std::max, compiled with other options, into these loops.
inline float magnitude(float v) { return __builtin_fabsf(v); }
inline double magnitude(double v) { return __builtin_fabs(v); }
template <class T>
inline T lesser(T a, T b) { return b < a ? b : a; }
template <class T>
inline T greater(T a, T b) { return a < b ? b : a; }

enum class Kind { elu, selu, celu, gelu, gelu_tanh, silu, mish, softplus, hardtanh, hardsigmoid, hardswish,
                  logsigmoid, softsign, threshold };

struct KindName {
  const char* name;
  Kind kind;
};

constexpr KindName kKinds[] = {
    {"elu", Kind::elu},           {"selu", Kind::selu},
    {"celu", Kind::celu},         {"gelu", Kind::gelu},
    {"gelu_tanh", Kind::gelu_tanh}, {"silu", Kind::silu},
    {"mish", Kind::mish},         {"softplus", Kind::softplus},
    {"hardtanh", Kind::hardtanh}, {"hardsigmoid", Kind::hardsigmoid},
    {"hardswish", Kind::hardswish}, {"logsigmoid", Kind::logsigmoid},
    {"softsign", Kind::softsign}, {"threshold", Kind::threshold},
};

Kind parse_kind(const std::string& name, const char* op) {
  std::string known;
  for (const KindName& k : kKinds) {
    if (name == k.name) return k.kind;
    known += known.empty() ? k.name : std::string(", ") + k.name;
  }
  throw ValueError(std::string(op) + ": unknown activation kind '" + name + "' (expected one of " + known + ")");
}

constexpr int64_t kChunk = 256;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // gelu_tanh's sqrt(2 / pi)
constexpr double kGeluCubic = 0.044715;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;  // the normal pdf's 1 / sqrt(2 pi)
constexpr double kSqrtHalf = 0.70710678118654752440084436210485;
constexpr double kMishLinear = 20.0;  // above it tanh(softplus(x)) is 1 to double precision

// The arguments of one call in the element type, with the ELU family's three coefficients
// (out = x <= 0 ? scale alpha (exp(x in) - 1) : scale x) resolved once.
template <class T>
struct Coef {
  T a, b, alpha = 1, scale = 1, in = 1;
  Coef(Kind kind, double a_, double b_) : a(static_cast<T>(a_)), b(static_cast<T>(b_)) {
    if (kind == Kind::elu) alpha = a;
    if (kind == Kind::selu) alpha = static_cast<T>(kSeluAlpha), scale = static_cast<T>(kSeluScale);
    if (kind == Kind::celu) alpha = a, in = static_cast<T>(1.0 / a_);
  }
};

// e = exp(z) - 1 over a chunk. float32 through the vector exp, but near 0 exp(z) - 1 cancels,
// so there the degree-8 Taylor polynomial (below |z| = 1/2: relative error < 2e-8; e - 1 above
// it loses at most a few ulp). float64 calls expm1 itself.
template <class T>
void expm1_chunk(const vec::Kernels<T>& k, const T* z, T* e, int64_t m) {
  if constexpr (std::is_same_v<T, double>) {
    for (int64_t i = 0; i < m; ++i) e[i] = std::expm1(z[i]);
  } else {
    k.exp(z, e, m);
    for (int64_t i = 0; i < m; ++i) {
      const float v = z[i];
      float p = 1.0f + v * (1.0f / 8);
      p = 1.0f + v * p * (1.0f / 7);
      p = 1.0f + v * p * (1.0f / 6);
      p = 1.0f + v * p * (1.0f / 5);
      p = 1.0f + v * p * (1.0f / 4);
      p = 1.0f + v * p * (1.0f / 3);
      p = 1.0f + v * p * 0.5f;
      const float taylor = v * p, direct = e[i] - 1.0f;  // e[i] read in both arms
      e[i] = magnitude(v) < 0.5f ? taylor : direct;
    }
  }
}

// log(1 + u) for u = exp(-|z|) in [0, 1], over a chunk, into u. float32 through the vector
// log with Goldberg's correction log(w) u / (w - 1), w = 1 + u, which cancels w's rounding.
template <class T>
void log1p_in_place(const vec::Kernels<T>& k, T* u, T* w, int64_t m) {
  if constexpr (std::is_same_v<T, double>) {
    for (int64_t i = 0; i < m; ++i) u[i] = std::log1p(u[i]);
  } else {
    for (int64_t i = 0; i < m; ++i) w[i] = 1.0f + u[i];
    k.log(w, w, m);
    for (int64_t i = 0; i < m; ++i) {
      const float ui = u[i], d = (1.0f + ui) - 1.0f, corrected = w[i] * (ui / d);  // d = 0: u is log1p(u)
      u[i] = d == 0.0f ? ui : corrected;
    }
  }
}

// s = sigmoid(z) and its complement 1 - s, neither by subtraction (1 - s cancels where z >> 0,
// and x (1 - s) is what silu's and gelu's gradients need): e = exp(-|z|), s = 1 / (1 + e) or
// e / (1 + e) by the sign of z, the complement the other one. z may be s's buffer, not sc's.
template <class T>
void sigmoid_pair(const vec::Kernels<T>& k, const T* z, T* s, T* sc, int64_t m) {
  for (int64_t i = 0; i < m; ++i) sc[i] = -magnitude(z[i]);
  k.exp(sc, sc, m);
  for (int64_t i = 0; i < m; ++i) {
    const T e = sc[i], r = T(1) / (T(1) + e), er = e * r;
    const bool positive = z[i] >= T(0);
    s[i] = positive ? r : er;  // (e is loaded before the choice: see the section comment)
    sc[i] = positive ? er : r;
  }
}

// The standard normal CDF Phi(x) and e = exp(-x^2 / 2) (the pdf's factor, for the backward).
// float64: erfc from the C library. float32: erfc(a), a = |x| / sqrt 2, as t Q(t) exp(-a^2) with
// t = 1 / (1 + a / 2) and Q our own least-squares fit of erfc(a) exp(a^2) / t (degree 10, relative
// error 1.1e-8 on all of a >= 0); x^2 is split exactly (Dekker) so that exp(-x^2 / 2) loses
// nothing to its rounding. Measured: Phi within 4.4e-7 relative everywhere, gelu too.
template <class T>
void normal_cdf_chunk(const vec::Kernels<T>& k, const T* x, T* phi, T* e, int64_t m) {
  if constexpr (std::is_same_v<T, double>) {
    for (int64_t i = 0; i < m; ++i) {
      phi[i] = 0.5 * std::erfc(-x[i] * kSqrtHalf);
      e[i] = std::exp(-0.5 * x[i] * x[i]);
    }
  } else {
    // |x| capped at 16, where exp(-x^2 / 2) is already 0 in float32: a huge |x| squares to inf,
    // and inf - inf would turn the exact-square correction into NaN.
    for (int64_t i = 0; i < m; ++i) {
      const float v = lesser(magnitude(x[i]), 16.0f);
      e[i] = -0.5f * (v * v);
    }
    k.exp(e, e, m);
    constexpr float q[] = {0.282094806f, 0.282093853f, 0.246880591f, 0.175376832f, 0.0930005908f, -0.0572325066f,
                           0.127089515f, -0.446977496f, 0.486178875f, -0.230857655f, 0.0423525944f};
    for (int64_t i = 0; i < m; ++i) {
      const float v = lesser(magnitude(x[i]), 16.0f), sq = v * v;
      const float split = v * 4097.0f, hi = split - (split - v), lo = v - hi;
      const float sq_err = ((hi * hi - sq) + 2.0f * hi * lo) + lo * lo;  // v^2 = sq + sq_err exactly
      const float ex = e[i] * (1.0f - 0.5f * sq_err);                    // exp(-(sq + sq_err) / 2)
      const float t = 1.0f / (1.0f + 0.5f * (v * float(kSqrtHalf)));
      float poly = q[10];
      for (int j = 9; j >= 0; --j) poly = poly * t + q[j];
      const float half_erfc = 0.5f * t * poly * ex, upper = 1.0f - half_erfc;
      phi[i] = x[i] <= 0.0f ? half_erfc : upper;
      e[i] = ex;
    }
  }
}

// y[0, m) = f(x[0, m)); t and w are scratch.
template <class T>
void forward_chunk(Kind kind, const Coef<T>& c, const vec::Kernels<T>& k, const T* x, T* y, T* t, T* w, int64_t m) {
  switch (kind) {
    case Kind::elu:
    case Kind::selu:
    case Kind::celu: {
      const T in = c.in;
      for (int64_t i = 0; i < m; ++i) w[i] = lesser(x[i], T(0)) * in;  // never positive: exp cannot overflow
      expm1_chunk(k, w, t, m);
      const T neg_scale = c.scale * c.alpha, scale = c.scale;  // locals: y's stores could alias c
      for (int64_t i = 0; i < m; ++i) {
        const T neg = neg_scale * t[i], pos = scale * x[i];
        y[i] = x[i] <= T(0) ? neg : pos;  // PyTorch's test: NaN takes the positive side
      }
      return;
    }
    case Kind::gelu:
      normal_cdf_chunk(k, x, t, w, m);
      for (int64_t i = 0; i < m; ++i) y[i] = x[i] * t[i];
      return;
    case Kind::gelu_tanh:  // (1 + tanh(u)) / 2 = sigmoid(2u), which does not cancel for x << 0
      for (int64_t i = 0; i < m; ++i)
        t[i] = T(2 * kSqrt2OverPi) * (x[i] + T(kGeluCubic) * x[i] * x[i] * x[i]);
      k.sigmoid(t, t, m);
      for (int64_t i = 0; i < m; ++i) y[i] = x[i] * t[i];
      return;
    case Kind::silu:
      k.sigmoid(x, t, m);
      for (int64_t i = 0; i < m; ++i) y[i] = x[i] * t[i];
      return;
    case Kind::mish: {  // tanh(log(1 + n)) = n (n + 2) / (n (n + 2) + 2) with n = exp(x): one exp
      for (int64_t i = 0; i < m; ++i) t[i] = lesser(x[i], T(kMishLinear));
      k.exp(t, t, m);
      for (int64_t i = 0; i < m; ++i) {
        const T xi = x[i], q = t[i] * (t[i] + T(2)), curved = xi * (q / (q + T(2)));
        y[i] = xi > T(kMishLinear) ? xi : curved;
      }
      return;
    }
    case Kind::softplus: {  // (max(z, 0) + log(1 + exp(-|z|))) / beta, z = beta x: exp never overflows
      const T beta = c.a, threshold = c.b;
      for (int64_t i = 0; i < m; ++i) t[i] = -magnitude(beta * x[i]);
      k.exp(t, t, m);
      log1p_in_place(k, t, w, m);
      for (int64_t i = 0; i < m; ++i) {
        const T xi = x[i], z = beta * xi, curved = (greater(z, T(0)) + t[i]) / beta;
        y[i] = z > threshold ? xi : curved;
      }
      return;
    }
    case Kind::logsigmoid:  // -softplus(-x) = min(x, 0) - log(1 + exp(-|x|))
      for (int64_t i = 0; i < m; ++i) t[i] = -magnitude(x[i]);
      k.exp(t, t, m);
      log1p_in_place(k, t, w, m);
      for (int64_t i = 0; i < m; ++i) y[i] = lesser(x[i], T(0)) - t[i];
      return;
    case Kind::hardtanh:  // NaN stays NaN (both comparisons are false)
      for (int64_t i = 0; i < m; ++i) {
        const T xi = x[i], lo = c.a, hi = c.b;
        y[i] = xi < lo ? lo : (xi > hi ? hi : xi);
      }
      return;
    case Kind::hardsigmoid:
      for (int64_t i = 0; i < m; ++i) y[i] = lesser(greater(x[i] + T(3), T(0)), T(6)) / T(6);
      return;
    case Kind::hardswish:
      for (int64_t i = 0; i < m; ++i) y[i] = x[i] * lesser(greater(x[i] + T(3), T(0)), T(6)) / T(6);
      return;
    case Kind::softsign:
      for (int64_t i = 0; i < m; ++i) y[i] = x[i] / (T(1) + magnitude(x[i]));
      return;
    case Kind::threshold:  // PyTorch's test, x <= threshold, keeps a NaN input
      for (int64_t i = 0; i < m; ++i) {
        const T xi = x[i], threshold = c.a, value = c.b;
        y[i] = xi <= threshold ? value : xi;
      }
      return;
  }
}

// o[0, m) = g * f'(x) over a chunk; t and w are scratch. The boundary rules are PyTorch's.
template <class T>
void backward_chunk(Kind kind, const Coef<T>& c, const vec::Kernels<T>& k, const T* g, const T* x, T* o, T* t,
                    T* w, int64_t m) {
  switch (kind) {
    case Kind::elu:
    case Kind::selu:
    case Kind::celu: {
      const T in = c.in, neg_scale = c.in * c.alpha * c.scale, scale = c.scale;
      for (int64_t i = 0; i < m; ++i) t[i] = lesser(x[i], T(0)) * in;
      k.exp(t, t, m);
      for (int64_t i = 0; i < m; ++i) {
        const T gi = g[i], neg = gi * neg_scale * t[i], pos = gi * scale;
        o[i] = x[i] <= T(0) ? neg : pos;
      }
      return;
    }
    case Kind::gelu:  // Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
      normal_cdf_chunk(k, x, t, w, m);
      for (int64_t i = 0; i < m; ++i) o[i] = g[i] * (t[i] + x[i] * w[i] * T(kInvSqrt2Pi));
      return;
    case Kind::gelu_tanh:  // y = x s, s = sigmoid(2u): y' = s + x s (1 - s) 2u'
      for (int64_t i = 0; i < m; ++i)
        o[i] = T(2 * kSqrt2OverPi) * (x[i] + T(kGeluCubic) * x[i] * x[i] * x[i]);
      sigmoid_pair(k, o, t, w, m);
      for (int64_t i = 0; i < m; ++i) {
        const T du = T(2 * kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x[i] * x[i]);
        const T spread = t[i] * w[i], slope = x[i] * spread * du;
        o[i] = g[i] * (t[i] + (spread == T(0) ? T(0) : slope));  // saturated: 0, not 0 * inf (huge |x|)
      }
      return;
    case Kind::silu:  // s (1 + x (1 - s))
      sigmoid_pair(k, x, t, w, m);
      for (int64_t i = 0; i < m; ++i) o[i] = g[i] * t[i] * (T(1) + x[i] * w[i]);
      return;
    case Kind::mish: {  // tsp + x sigmoid(x) (1 - tsp^2), 1 - tsp^2 = (1 + tsp) 2 / d without cancelling
      for (int64_t i = 0; i < m; ++i) t[i] = lesser(x[i], T(kMishLinear));
      k.exp(t, t, m);
      for (int64_t i = 0; i < m; ++i) {
        const T n = t[i], q = n * (n + T(2)), d = q + T(2), tsp = q / d;
        const T gi = g[i], curved = gi * (tsp + x[i] * (n / (T(1) + n)) * ((T(1) + tsp) * T(2) / d));
        o[i] = x[i] > T(kMishLinear) ? gi : curved;
      }
      return;
    }
    case Kind::softplus:  // sigmoid(beta x), or 1 in the linear region
      for (int64_t i = 0; i < m; ++i) t[i] = c.a * x[i];
      k.sigmoid(t, w, m);
      for (int64_t i = 0; i < m; ++i) {
        const T gi = g[i], curved = gi * w[i], threshold = c.b;
        o[i] = t[i] > threshold ? gi : curved;
      }
      return;
    case Kind::logsigmoid:  // sigmoid(-x)
      for (int64_t i = 0; i < m; ++i) t[i] = -x[i];
      k.sigmoid(t, t, m);
      for (int64_t i = 0; i < m; ++i) o[i] = g[i] * t[i];
      return;
    case Kind::hardtanh:  // | and &, not || and &&: no branch in the loop
      for (int64_t i = 0; i < m; ++i) {
        const T gi = g[i], lo = c.a, hi = c.b;
        o[i] = ((x[i] <= lo) | (x[i] >= hi)) ? T(0) : gi;
      }
      return;
    case Kind::hardsigmoid:
      for (int64_t i = 0; i < m; ++i) {
        const T inside = g[i] * T(1.0 / 6.0);
        o[i] = ((x[i] > T(-3)) & (x[i] < T(3))) ? inside : T(0);
      }
      return;
    case Kind::hardswish:  // PyTorch 2's rule: 0 up to -3 inclusive, g from 3 on (and for NaN)
      for (int64_t i = 0; i < m; ++i) {
        const T gi = g[i], inside = gi * (x[i] / T(3) + T(0.5));
        o[i] = x[i] <= T(-3) ? T(0) : (x[i] < T(3) ? inside : gi);
      }
      return;
    case Kind::softsign:
      for (int64_t i = 0; i < m; ++i) {
        const T d = T(1) + magnitude(x[i]);
        o[i] = g[i] / (d * d);
      }
      return;
    case Kind::threshold:
      for (int64_t i = 0; i < m; ++i) {
        const T gi = g[i], threshold = c.a;
        o[i] = x[i] <= threshold ? T(0) : gi;
      }
      return;
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// A run operand: the data itself when it is contiguous, else gathered into `buf`.
template <class T>
const T* read_run(const T* p, int64_t stride, int64_t m, T* buf) {
  if (stride == 1) return p;
  for (int64_t i = 0; i < m; ++i) buf[i] = p[i * stride];
  return buf;
}

void check_kind_args(Kind kind, double a, double b, const char* op) {
  if (kind == Kind::celu) DC_CHECK(a != 0.0, op << ": celu's alpha cannot be 0");
  if (kind == Kind::hardtanh) DC_CHECK(a <= b, op << ": hardtanh's min_val " << a << " is above max_val " << b);
}

}  // namespace

NDArray activation(const NDArray& x, const std::string& kind_name, double a, double b) {
  check_device(x, Device::CPU, "activation");
  const Kind kind = parse_kind(kind_name, "activation");
  check_kind_args(kind, a, b, "activation");
  NDArray out = empty(x.shape, x.dtype);
  StridedLoop<2> loop(x.shape, {out.strides, x.strides});
  dispatch_float(x.dtype, "activation", [&]<class T>() {
    const Coef<T> c(kind, a, b);
    T* po = out.data<T>();
    const T* px = x.data<T>();
    const vec::Kernels<T>& k = vec::kernels<T>();
    loop.run(kTranscendentalGrain, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
      T xb[kChunk], yb[kChunk], t[kChunk], w[kChunk];
      for (int64_t j = 0; j < n; j += kChunk) {
        const int64_t m = std::min(kChunk, n - j);
        const T* xs = read_run(px + off[1] + j * st[1], st[1], m, xb);
        T* y = st[0] == 1 ? po + off[0] + j : yb;
        forward_chunk(kind, c, k, xs, y, t, w, m);
        if (st[0] != 1)
          for (int64_t i = 0; i < m; ++i) po[off[0] + (j + i) * st[0]] = yb[i];
      }
    });
  });
  return out;
}

NDArray activation_backward(const NDArray& grad, const NDArray& x, const std::string& kind_name, double a,
                            double b) {
  check_device(grad, Device::CPU, "activation_backward");
  check_device(x, Device::CPU, "activation_backward");
  DC_CHECK(grad.shape == x.shape, "activation_backward: gradient shape " << shape_str(grad.shape)
                                      << " does not match the input's shape " << shape_str(x.shape));
  DC_CHECK_TYPE(grad.dtype == x.dtype, "activation_backward: gradient dtype " << dtype_name(grad.dtype)
                                           << " does not match the input's dtype " << dtype_name(x.dtype));
  const Kind kind = parse_kind(kind_name, "activation_backward");
  check_kind_args(kind, a, b, "activation_backward");
  NDArray out = empty(x.shape, x.dtype);
  StridedLoop<3> loop(x.shape, {out.strides, grad.strides, x.strides});
  dispatch_float(x.dtype, "activation_backward", [&]<class T>() {
    const Coef<T> c(kind, a, b);
    T* po = out.data<T>();
    const T* pg = grad.data<T>();
    const T* px = x.data<T>();
    const vec::Kernels<T>& k = vec::kernels<T>();
    loop.run(kTranscendentalGrain, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
      T gb[kChunk], xb[kChunk], ob[kChunk], t[kChunk], w[kChunk];
      for (int64_t j = 0; j < n; j += kChunk) {
        const int64_t m = std::min(kChunk, n - j);
        const T* gs = read_run(pg + off[1] + j * st[1], st[1], m, gb);
        const T* xs = read_run(px + off[2] + j * st[2], st[2], m, xb);
        T* o = st[0] == 1 ? po + off[0] + j : ob;
        backward_chunk(kind, c, k, gs, xs, o, t, w, m);
        if (st[0] != 1)
          for (int64_t i = 0; i < m; ++i) po[off[0] + (j + i) * st[0]] = ob[i];
      }
    });
  });
  return out;
}

}  // namespace deepcore::cpu
