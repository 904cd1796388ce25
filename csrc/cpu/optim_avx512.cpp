// The optimizer loops compiled with the AVX-512 flags (CMake gives *_avx512.cpp those flags).
#include "cpu/optim_loops.h"

namespace deepcore::cpu::optim_detail {
OptimLoopSet avx512_loops() { return loop_set(); }
}  // namespace deepcore::cpu::optim_detail
