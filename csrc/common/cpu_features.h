// Which CPU kernels to run, decided once at import from cpuid (never from the
// flags this library was compiled with). DEEPCORE_CPU_CAPABILITY=portable|avx2|avx512
// may lower the choice, never raise it above what the CPU supports.
#pragma once
#include <string>

namespace deepcore {

enum class CpuIsa : int { Portable = 0, AVX2 = 1, AVX512 = 2 };

CpuIsa cpu_isa();                      // the level in use
CpuIsa cpu_isa_supported();            // the best the CPU can run
void set_cpu_isa(CpuIsa isa);          // throws ValueError above the supported level
const char* cpu_isa_name(CpuIsa isa);  // "portable", "avx2", "avx512"

}  // namespace deepcore
