#include "common/cpu_features.h"

#include <cstdlib>
#include <cstring>

#include "common/ndarray.h"

namespace deepcore {

CpuIsa cpu_isa_supported() {
#if defined(DEEPCORE_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return CpuIsa::AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::AVX2;
#endif
  return CpuIsa::Portable;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::AVX512: return "avx512";
    case CpuIsa::AVX2: return "avx2";
    default: return "portable";
  }
}

static CpuIsa initial_isa() {
  CpuIsa best = cpu_isa_supported();
  if (const char* env = std::getenv("DEEPCORE_CPU_CAPABILITY")) {
    CpuIsa want = best;
    if (!std::strcmp(env, "portable")) want = CpuIsa::Portable;
    else if (!std::strcmp(env, "avx2")) want = CpuIsa::AVX2;
    else if (!std::strcmp(env, "avx512")) want = CpuIsa::AVX512;
    if (want < best) best = want;
  }
  return best;
}

static CpuIsa g_isa = initial_isa();

CpuIsa cpu_isa() { return g_isa; }

void set_cpu_isa(CpuIsa isa) {
  DC_CHECK(isa <= cpu_isa_supported(), "set_cpu_capability: this CPU supports at most '"
                                           << cpu_isa_name(cpu_isa_supported()) << "', not '"
                                           << cpu_isa_name(isa) << "'");
  g_isa = isa;
}

}  // namespace deepcore
