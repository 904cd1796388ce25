// The optimizer loops for any CPU: baseline compiler flags.
#include "cpu/optim_loops.h"

namespace deepcore::cpu::optim_detail {
OptimLoopSet portable_loops() { return loop_set(); }
}  // namespace deepcore::cpu::optim_detail
