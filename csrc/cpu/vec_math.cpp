// The portable vec::Kernels (plain C++, scalar C library math) and the run-time
// choice between the per-ISA tables.
#include "cpu/vec_math.h"

#include "cpu/vec_math_loops.h"

namespace deepcore::cpu::vec {

namespace detail {
const Kernels<float> portable_f32 = loops::scalar_table<float>("portable");
const Kernels<double> portable_f64 = loops::scalar_table<double>("portable");
}  // namespace detail

template <>
const Kernels<float>& kernels<float>(CpuIsa isa) {
#ifdef DEEPCORE_X86
  if (isa == CpuIsa::AVX512) return detail::avx512_f32;
  if (isa == CpuIsa::AVX2) return detail::avx2_f32;
#endif
  (void)isa;
  return detail::portable_f32;
}

template <>
const Kernels<double>& kernels<double>(CpuIsa isa) {
#ifdef DEEPCORE_X86
  if (isa == CpuIsa::AVX512) return detail::avx512_f64;
  if (isa == CpuIsa::AVX2) return detail::avx2_f64;
#endif
  (void)isa;
  return detail::portable_f64;
}

}  // namespace deepcore::cpu::vec
