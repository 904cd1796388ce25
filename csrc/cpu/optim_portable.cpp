// The optimizer element loops for any CPU (baseline compiler flags).
#define DEEPCORE_OPTIM_NS optim_portable
#include "cpu/optim_loops.inc"
