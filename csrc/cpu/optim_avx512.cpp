// The optimizer element loops compiled with AVX512 flags (CMake adds them from the file name).
#define DEEPCORE_OPTIM_NS optim_avx512
#include "cpu/optim_loops.inc"
