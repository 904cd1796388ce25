// Micro-kernels behind cpu::gemm, one set per instruction set. Each ISA lives
// in its own translation unit compiled with its own flags; gemm.cpp picks one
// at run time from cpu_isa(). Kernel files include nothing but intrinsics and
// this header, so no inline function compiled with AVX flags can be merged by
// the linker into code that runs on a CPU without them.
#pragma once
#include <cstdint>

namespace deepcore::cpu::gemm_detail {

// C[0:m, 0:n] = alpha * (a @ b) + beta * C for one mr x nr register tile, m <= mr, n <= nr.
// `a` is a packed sliver of A: kc steps of mr values (column k of the tile's rows).
// `b` is a packed sliver of B: kc steps of nr values (row k of the tile's columns).
// Both are zero-padded to the full tile and 64-byte aligned. beta == 0: C is only written.
template <class T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int m, int n, T alpha,
                             T beta);

// A register tile plus the cache blocks tuned for it (in elements):
// kc: depth of a packed sliver, sized so one B sliver (kc x nr) stays in L1;
// mc: rows of A packed together, sized so the A block (mc x kc) stays in L2;
// nc: columns of B packed together, sized so the B panel (kc x nc) stays in L3.
template <class T>
struct KernelSpec {
  const char* name;
  int mr, nr;
  int64_t kc, mc, nc;
  MicroKernel<T> kernel;
};

KernelSpec<float> portable_kernel_f32();
KernelSpec<double> portable_kernel_f64();
#ifdef DEEPCORE_X86
KernelSpec<float> avx2_kernel_f32();  // call only when cpu_isa() >= AVX2
KernelSpec<double> avx2_kernel_f64();
KernelSpec<float> avx512_kernel_f32();  // call only when cpu_isa() == AVX512
KernelSpec<double> avx512_kernel_f64();
#endif

}  // namespace deepcore::cpu::gemm_detail
