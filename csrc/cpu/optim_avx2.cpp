// The optimizer element loops compiled with AVX2 flags (CMake adds them from the file name).
#define DEEPCORE_OPTIM_NS optim_avx2
#include "cpu/optim_loops.inc"
