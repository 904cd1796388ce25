// The optimizer loops compiled with -mavx2 -mfma (CMake gives *_avx2.cpp those flags).
#include "cpu/optim_loops.h"

namespace deepcore::cpu::optim_detail {
OptimLoopSet avx2_loops() { return loop_set(); }
}  // namespace deepcore::cpu::optim_detail
