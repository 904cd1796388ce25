// Plain C++ loops behind the simple vec::Kernels entries. Every ISA file
// includes this and instantiates them with its own compile flags, so the same
// source auto-vectorizes to SSE2, AVX2 or AVX-512. Internal linkage on purpose:
// a shared (inline) copy could be taken from a file compiled with AVX-512 and
// run on a CPU without it. No std::min/max here for the same reason.
#pragma once
#include <cmath>
#include <cstdint>

#include "cpu/vec_math.h"

namespace deepcore::cpu::vec {
namespace {
namespace loops {

// NaN propagates (as torch.relu and np.maximum(x, 0)); x < 0 is false for NaN.
template <class T>
void relu(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] < T(0) ? T(0) : x[i];
}

template <class T>
void leaky_relu(const T* x, T slope, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] > T(0) ? x[i] : x[i] * slope;
}

template <int OP, class T>
inline T arith_op(T a, T b) {
  if constexpr (OP == kAdd) return a + b;
  else if constexpr (OP == kSub) return a - b;
  else if constexpr (OP == kMul) return a * b;
  else return a / b;
}

template <class T, int OP>
void arith(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = arith_op<OP>(a[i], b[i]);
}

template <class T, int OP>
void arith_scalar(const T* a, T b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = arith_op<OP>(a[i], b);
}

template <class T>
void tanh_backward(const T* g, const T* y, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * (T(1) - y[i] * y[i]);
}

template <class T>
void sigmoid_backward(const T* g, const T* y, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * y[i] * (T(1) - y[i]);
}

// slope 0 is relu's backward: the gradient is exactly 0 where x <= 0, even for
// an infinite g (g * 0 would be NaN).
template <class T>
void leaky_relu_backward(const T* g, const T* x, T slope, T* out, int64_t n) {
  if (slope == T(0)) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] > T(0) ? g[i] : T(0);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] > T(0) ? g[i] : g[i] * slope;
  }
}

template <class T>
void sub_sub(const T* x, T a, T b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - a) - b;
}

// Scalar C library math: the portable float32 table and float64 everywhere.
template <class T>
void exp(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i]);
}

template <class T>
void log(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::log(x[i]);
}

template <class T>
void tanh(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(x[i]);
}

// exp of a non-positive number only, so neither branch overflows.
template <class T>
void sigmoid(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T e = std::exp(-std::fabs(x[i]));
    out[i] = (x[i] < T(0) ? e : T(1)) / (T(1) + e);
  }
}

// 32 independent double partial sums: enough chains to hide the add latency,
// laid out so the compiler turns them into vector registers.
template <class T>
double sum(const T* x, int64_t n) {
  constexpr int kLanes = 32;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += static_cast<double>(x[i + j]);
  for (int j = 0; i < n; ++i, ++j) acc[j] += static_cast<double>(x[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

template <class T>
T row_max(const T* x, int64_t n) {
  T m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// A double sum: one serial float sum over a 1000-class row would lose ~1e-6.
template <class T>
T exp_shifted_sum(const T* x, T shift, T* out, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = std::exp(x[i] - shift);
    s += out[i];
  }
  return static_cast<T>(s);
}

template <class T>
T sum_exp_shifted(const T* x, T shift, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - shift);
  return static_cast<T>(s);
}

// The table whose math entries are all scalar C library calls.
template <class T>
constexpr Kernels<T> scalar_table(const char* isa) {
  return Kernels<T>{isa,
                    &exp<T>,
                    &log<T>,
                    &tanh<T>,
                    &sigmoid<T>,
                    &relu<T>,
                    &leaky_relu<T>,
                    {&arith<T, kAdd>, &arith<T, kSub>, &arith<T, kMul>, &arith<T, kDiv>},
                    {&arith_scalar<T, kAdd>, &arith_scalar<T, kSub>, &arith_scalar<T, kMul>, &arith_scalar<T, kDiv>},
                    &tanh_backward<T>,
                    &sigmoid_backward<T>,
                    &leaky_relu_backward<T>,
                    &sum<T>,
                    &row_max<T>,
                    &exp_shifted_sum<T>,
                    &sum_exp_shifted<T>,
                    &sub_sub<T>};
}

}  // namespace loops
}  // namespace
}  // namespace deepcore::cpu::vec
