// Threads for the CPU kernels: OpenMP when the build has it, one thread otherwise.
#pragma once
#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace deepcore {

int get_num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) over [0, n) split in contiguous chunks, one per thread.
// Work below `grain` elements runs on the calling thread. fn must not throw:
// check arguments before calling parallel_for.
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& fn) {
  if (n <= 0) return;
  int nt = get_num_threads();
  if (nt <= 1 || n <= grain) {
    fn(int64_t(0), n);
    return;
  }
  int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  nt = static_cast<int>(std::min<int64_t>(nt, max_chunks));
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int T = omp_get_num_threads();
    int64_t chunk = (n + T - 1) / T;
    int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
#else
  fn(int64_t(0), n);
#endif
}

}  // namespace deepcore
