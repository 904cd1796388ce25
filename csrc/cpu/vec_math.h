// Vectorized math over contiguous arrays: the inner loops of the elementwise
// and activation kernels. One table of kernels per instruction set (portable,
// AVX2+FMA, AVX-512), picked at every call from cpu_isa(), so
// set_cpu_capability() takes effect at once.
//
// float32 exp/log/tanh/sigmoid are our own range-reduced polynomials on AVX2 and
// AVX-512 (vec_math_simd.h; measured max errors there, all well under 4 ulp);
// the portable table calls the C library. float64 is scalar std:: everywhere
// (it serves gradient checks, not speed), but its simple loops are still
// compiled per ISA. Every element goes through the same code whatever its
// position in the array, so results do not depend on how the array is split
// between threads. All kernels: n >= 0, out may alias an input, NaN propagates.
#pragma once
#include <cstdint>

#include "common/cpu_features.h"

namespace deepcore::cpu::vec {

enum Arith : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

template <class T>
struct Kernels {
  const char* isa;
  // out[i] = f(x[i])
  void (*exp)(const T* x, T* out, int64_t n);
  void (*log)(const T* x, T* out, int64_t n);
  void (*tanh)(const T* x, T* out, int64_t n);
  void (*sigmoid)(const T* x, T* out, int64_t n);  // exp of -|x| only: never overflows
  void (*relu)(const T* x, T* out, int64_t n);
  void (*leaky_relu)(const T* x, T slope, T* out, int64_t n);
  // out[i] = a[i] OP b[i] and a[i] OP b, OP indexed by Arith.
  void (*arith[4])(const T* a, const T* b, T* out, int64_t n);
  void (*arith_scalar[4])(const T* a, T b, T* out, int64_t n);
  // Backward passes: g is the incoming gradient, y the saved output (x the saved input).
  void (*tanh_backward)(const T* g, const T* y, T* out, int64_t n);     // g * (1 - y^2)
  void (*sigmoid_backward)(const T* g, const T* y, T* out, int64_t n);  // g * y * (1 - y)
  void (*leaky_relu_backward)(const T* g, const T* x, T slope, T* out, int64_t n);  // x > 0 ? g : g * slope
  // sum(x) accumulated in double, in a fixed order (independent of threads).
  double (*sum)(const T* x, int64_t n);
  // Softmax rows. row_max may skip NaN (the exp pass turns a NaN row to NaN anyway); -inf for n == 0.
  T (*row_max)(const T* x, int64_t n);
  // out[i] = exp(x[i] - shift); returns the sum of out.
  T (*exp_shifted_sum)(const T* x, T shift, T* out, int64_t n);
  // Returns sum(exp(x[i] - shift)) without storing anything.
  T (*sum_exp_shifted)(const T* x, T shift, int64_t n);
  // out[i] = (x[i] - a) - b: log_softmax's (x - max) - log(sum), rounded in that order.
  void (*sub_sub)(const T* x, T a, T b, T* out, int64_t n);
};

template <class T>
const Kernels<T>& kernels(CpuIsa isa);

template <class T>
inline const Kernels<T>& kernels() { return kernels<T>(cpu_isa()); }

// The per-ISA tables (vec_math.cpp, vec_math_avx2.cpp, vec_math_avx512.cpp).
namespace detail {
extern const Kernels<float> portable_f32;
extern const Kernels<double> portable_f64;
#ifdef DEEPCORE_X86
extern const Kernels<float> avx2_f32;  // use only when cpu_isa() >= AVX2
extern const Kernels<double> avx2_f64;
extern const Kernels<float> avx512_f32;  // use only when cpu_isa() == AVX512
extern const Kernels<double> avx512_f64;
#endif
}  // namespace detail

}  // namespace deepcore::cpu::vec
