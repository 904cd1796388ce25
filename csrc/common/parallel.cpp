#include "common/parallel.h"

#include <atomic>
#include <cstdlib>

namespace deepcore {

static int initial_threads() {
  if (const char* env = std::getenv("DEEPCORE_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Atomic: set_num_threads may run on one Python thread while kernels on others read the count.
// Relaxed is enough: a kernel only needs some valid count, and each reads it once per region.
static std::atomic<int> g_num_threads{initial_threads()};

// Inside a parallel region (a kernel that splits its own work, e.g. conv2d over
// images) the kernels it calls run on the calling thread: no nested teams.
int get_num_threads() {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return g_num_threads.load(std::memory_order_relaxed);
}

void set_num_threads(int n) { g_num_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

}  // namespace deepcore
