// float32 exp / log / tanh / sigmoid and the softmax row passes, written once
// over a small vector-operations struct `O` that each ISA file defines
// (vec_math_avx2.cpp: 8 lanes, vec_math_avx512.cpp: 16 lanes) before including
// this header. Internal linkage, like vec_math_loops.h.
//
// O provides: V (vector), M (lane mask), W (lanes); set1, load, store,
// load_tail(p, count, fill) (lanes >= count read as `fill`), store_tail;
// add, sub, mul, div, fmadd(a, b, c) = a*b + c, fnmadd(a, b, c) = c - a*b;
// max, clamp(x, lo, hi) (keeps NaN), round (to nearest even), abs, neg_abs,
// copysign(mag, sign); lt, eq, not_ge (true for NaN) -> M; select(m, t, f);
// scale_pow2(y, n) = y * 2^n for integral n in [-152, 129], correctly rounded
// into the subnormal range and overflowing to inf; split_log(x, m, k): x = m * 2^k
// with m in [sqrt(1/2), sqrt(2)) for positive normal x; hsum, hmax.
//
// Accuracy: largest error measured against float64 NumPy over 12M inputs (all
// special values, [-100, 100] and [-5, 5] uniform, +-[1e-45, 3.4e38]
// log-uniform); tests/test_vec_math.py holds every level to 4 ulp:
//   exp      1.00 ulp  (polynomial relative error 3e-9 = 0.05 ulp)
//   log      0.84 ulp  (polynomial relative error 5e-12)
//   tanh     1.44 ulp  (odd polynomial below 0.55, 1 - 2/(exp(2|x|) + 1) above)
//   sigmoid  2.35 ulp  (e/(1+e) or 1/(1+e) with e = exp(-|x|): one division)
// The coefficients are our own weighted least-squares (Lawson) fits of the
// relative error on the reduced ranges, rounded to float32.
#pragma once
#include <cstdint>

#include "cpu/vec_math.h"

namespace deepcore::cpu::vec {
namespace {
namespace simd {

// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]
// (ln2 split in two floats; FMA keeps n * ln2_hi exact), exp(r) = 1 + r + r^2 P(r).
template <class O>
typename O::V exp_v(typename O::V x) {
  using V = typename O::V;
  // Below -104 the result is 0 even as a subnormal; above 88.8 it is inf (scale_pow2 overflows).
  const V xc = O::clamp(x, O::set1(-104.0f), O::set1(88.8f));
  const V n = O::round(O::mul(xc, O::set1(1.44269502f)));
  V r = O::fnmadd(n, O::set1(0.693147182f), xc);
  r = O::fnmadd(n, O::set1(-1.90465421e-09f), r);
  V p = O::set1(1.38146116e-3f);
  p = O::fmadd(p, r, O::set1(8.36871006e-3f));
  p = O::fmadd(p, r, O::set1(4.16683890e-2f));
  p = O::fmadd(p, r, O::set1(1.66665211e-1f));
  p = O::fmadd(p, r, O::set1(4.99999940e-1f));
  V y = O::fmadd(p, O::mul(r, r), r);
  y = O::add(y, O::set1(1.0f));
  return O::scale_pow2(y, n);
}

// log(x) = k ln2 + log(1 + f), 1 + f = m in [sqrt(1/2), sqrt(2)); with s = f / (2 + f),
// log(1 + f) = 2s + s R(s^2) = f - (f^2/2 - s (f^2/2 + R)), the form that keeps
// the rounding of s away from the leading term.
template <class O>
typename O::V log_v(typename O::V x) {
  using V = typename O::V;
  const V zero = O::set1(0.0f), one = O::set1(1.0f);
  // Subnormals: scale into the normal range first.
  const auto tiny = O::lt(x, O::set1(1.17549435e-38f));
  const V xs = O::select(tiny, O::mul(x, O::set1(8388608.0f)), x);
  V m, k;
  O::split_log(xs, m, k);
  k = O::add(k, O::select(tiny, O::set1(-23.0f), zero));
  const V f = O::sub(m, one);
  const V s = O::div(f, O::add(f, O::set1(2.0f)));
  const V z = O::mul(s, s);
  V R = O::set1(0.235814810f);
  R = O::fmadd(R, z, O::set1(0.285373479f));
  R = O::fmadd(R, z, O::set1(0.400003344f));
  R = O::fmadd(R, z, O::set1(0.666666627f));
  R = O::mul(R, z);
  const V hf = O::mul(O::set1(0.5f), O::mul(f, f));
  const V log_m = O::sub(f, O::fnmadd(s, O::add(hf, R), hf));
  V res = O::fmadd(k, O::set1(0.693147182f), O::fmadd(k, O::set1(-1.90465421e-09f), log_m));
  const V inf = O::set1(__builtin_inff());
  res = O::select(O::eq(x, inf), inf, res);
  res = O::select(O::eq(x, zero), O::set1(-__builtin_inff()), res);
  return O::select(O::not_ge(x, zero), O::set1(__builtin_nanf("")), res);  // x < 0 or NaN
}

// Small |x|: tanh(x) = x + x^3 P(x^2) (no cancellation, tanh(x) ~ x to the last bit);
// otherwise 1 - 2 / (exp(2|x|) + 1), which tends to 1 without overflow (exp -> inf).
template <class O>
typename O::V tanh_v(typename O::V x) {
  using V = typename O::V;
  const V one = O::set1(1.0f);
  const V a = O::abs(x);
  const V x2 = O::mul(x, x);
  V p = O::set1(-6.27423823e-3f);
  p = O::fmadd(p, x2, O::set1(2.10716780e-2f));
  p = O::fmadd(p, x2, O::set1(-5.38523085e-2f));
  p = O::fmadd(p, x2, O::set1(1.33325860e-1f));
  p = O::fmadd(p, x2, O::set1(-3.33333164e-1f));
  const V small = O::fmadd(O::mul(x, x2), p, x);
  const V e = exp_v<O>(O::add(a, a));
  const V big = O::copysign(O::sub(one, O::div(O::set1(2.0f), O::add(e, one))), x);
  return O::select(O::lt(a, O::set1(0.55f)), small, big);  // NaN takes `big`, which is NaN
}

// e = exp(-|x|) <= 1: sigmoid = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0.
template <class O>
typename O::V sigmoid_v(typename O::V x) {
  using V = typename O::V;
  const V one = O::set1(1.0f);
  const V e = exp_v<O>(O::neg_abs(x));
  return O::div(O::select(O::lt(x, O::set1(0.0f)), e, one), O::add(one, e));
}

// out[i] = F(x[i]); the tail goes through the same vector code (masked), so an
// element's result does not depend on where a thread's chunk starts.
template <class O, typename O::V (*F)(typename O::V)>
void map(const float* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 2 * O::W <= n; i += 2 * O::W) {  // two independent chains per step
    const auto a = F(O::load(x + i)), b = F(O::load(x + i + O::W));
    O::store(out + i, a);
    O::store(out + i + O::W, b);
  }
  for (; i + O::W <= n; i += O::W) O::store(out + i, F(O::load(x + i)));
  if (i < n) O::store_tail(out + i, F(O::load_tail(x + i, n - i, 0.0f)), n - i);
}

template <class O>
void exp(const float* x, float* out, int64_t n) { map<O, exp_v<O>>(x, out, n); }
template <class O>
void log(const float* x, float* out, int64_t n) { map<O, log_v<O>>(x, out, n); }
template <class O>
void tanh(const float* x, float* out, int64_t n) { map<O, tanh_v<O>>(x, out, n); }
template <class O>
void sigmoid(const float* x, float* out, int64_t n) { map<O, sigmoid_v<O>>(x, out, n); }

template <class O>
float row_max(const float* x, int64_t n) {
  const float ninf = -__builtin_inff();
  auto acc = O::set1(ninf);
  int64_t i = 0;
  for (; i + O::W <= n; i += O::W) acc = O::max(acc, O::load(x + i));
  if (i < n) acc = O::max(acc, O::load_tail(x + i, n - i, ninf));
  return O::hmax(acc);
}

// Tail lanes read -inf, whose exp adds 0 to the sum.
template <class O, bool STORE>
float exp_shifted(const float* x, float shift, float* out, int64_t n) {
  const auto c = O::set1(shift);
  auto acc = O::set1(0.0f);
  int64_t i = 0;
  for (; i + O::W <= n; i += O::W) {
    const auto e = exp_v<O>(O::sub(O::load(x + i), c));
    if constexpr (STORE) O::store(out + i, e);
    acc = O::add(acc, e);
  }
  if (i < n) {
    const auto e = exp_v<O>(O::sub(O::load_tail(x + i, n - i, -__builtin_inff()), c));
    if constexpr (STORE) O::store_tail(out + i, e, n - i);
    acc = O::add(acc, e);
  }
  return O::hsum(acc);
}

template <class O>
float exp_shifted_sum(const float* x, float shift, float* out, int64_t n) {
  return exp_shifted<O, true>(x, shift, out, n);
}
template <class O>
float sum_exp_shifted(const float* x, float shift, int64_t n) {
  return exp_shifted<O, false>(x, shift, nullptr, n);
}

template <class O>
constexpr Kernels<float> table(const char* isa) {
  return Kernels<float>{isa,
                        &exp<O>,
                        &log<O>,
                        &tanh<O>,
                        &sigmoid<O>,
                        &loops::relu<float>,
                        &loops::leaky_relu<float>,
                        {&loops::arith<float, kAdd>, &loops::arith<float, kSub>, &loops::arith<float, kMul>,
                         &loops::arith<float, kDiv>},
                        {&loops::arith_scalar<float, kAdd>, &loops::arith_scalar<float, kSub>,
                         &loops::arith_scalar<float, kMul>, &loops::arith_scalar<float, kDiv>},
                        &loops::tanh_backward<float>,
                        &loops::sigmoid_backward<float>,
                        &loops::leaky_relu_backward<float>,
                        &loops::sum<float>,
                        &row_max<O>,
                        &exp_shifted_sum<O>,
                        &sum_exp_shifted<O>,
                        &loops::sub_sub<float>};
}

}  // namespace simd
}  // namespace
}  // namespace deepcore::cpu::vec
