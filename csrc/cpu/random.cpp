// Philox 4x32-10 (Salmon et al., SC'11) and the distributions built on it.
#include "cpu/random.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <vector>

#include "common/cpu_features.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

using Block = std::array<uint32_t, 4>;

inline Block philox(uint64_t counter, uint64_t seed) { return philox4x32(counter, seed); }

// The stream a draw takes its counters from.
inline PhiloxGenerator& stream(PhiloxGenerator* gen) { return gen != nullptr ? *gen : global_generator(); }

// Uniform in [0, 1) with full mantissa precision.
inline float to_unit_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
inline double to_unit_double(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

PhiloxGenerator& global_generator() {
  static PhiloxGenerator global(0x5EEDu);  // a function static: ready before any other static uses it
  return global;
}

std::pair<uint64_t, uint64_t> reserve_random_blocks(uint64_t blocks) { return global_generator().reserve(blocks); }

void philox4x32_fill(uint64_t first, uint64_t seed, int64_t blocks, uint32_t* out) {
#ifdef DEEPCORE_X86
  const CpuIsa isa = cpu_isa();
  if (isa == CpuIsa::AVX512) return detail::philox4x32_fill_avx512(first, seed, blocks, out);
  if (isa == CpuIsa::AVX2) return detail::philox4x32_fill_avx2(first, seed, blocks, out);
#endif
  for (int64_t j = 0; j < blocks; ++j) {
    const Block r = philox(first + static_cast<uint64_t>(j), seed);
    for (int l = 0; l < 4; ++l) out[4 * j + l] = r[l];
  }
}

void manual_seed(uint64_t seed) { global_generator().manual_seed(seed); }

std::pair<uint64_t, uint64_t> get_rng_state() { return global_generator().state(); }

void set_rng_state(uint64_t seed, uint64_t offset) { global_generator().set_state(seed, offset); }

namespace {

// Uniform numbers u in [0, 1) through map(u) into p[0..n): float32 takes 4 per block, float64 2
// (two words each). Exactly rand's stream when map is the identity.
template <class T, class Map>
void fill_unit(PhiloxGenerator& gen, T* p, int64_t n, Map map) {
  constexpr int64_t per = std::is_same_v<T, float> ? 4 : 2;
  const int64_t blocks = (n + per - 1) / per;
  auto [seed, first] = gen.reserve(blocks);
  parallel_for(blocks, 4096, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      Block r = philox(first + j, seed);
      for (int64_t l = 0; l < per && j * per + l < n; ++l) {
        if constexpr (per == 4) p[j * per + l] = map(to_unit_float(r[l]));
        else p[j * per + l] = map(to_unit_double(r[2 * l], r[2 * l + 1]));
      }
    }
  });
}

// Standard normals z through mean + std * z; Box-Muller: one block gives one pair.
template <class T>
void fill_normal(PhiloxGenerator& gen, T* p, int64_t n, double mean, double std) {
  const int64_t blocks = (n + 1) / 2;
  auto [seed, first] = gen.reserve(blocks);
  parallel_for(blocks, 2048, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      Block r = philox(first + j, seed);
      double u1 = 1.0 - to_unit_double(r[0], r[1]);  // (0, 1]: log never sees 0
      double u2 = to_unit_double(r[2], r[3]);
      double radius = std::sqrt(-2.0 * std::log(u1));
      double angle = 6.283185307179586 * u2;
      p[2 * j] = static_cast<T>(mean + std * (radius * std::cos(angle)));
      if (2 * j + 1 < n) p[2 * j + 1] = static_cast<T>(mean + std * (radius * std::sin(angle)));
    }
  });
}

// Runs fill(T* p, n) on `a` itself when it is contiguous, else on a scratch array copied into it.
template <class Fill>
void fill_in_place(const NDArray& a, const char* op, Fill fill) {
  check_device(a, Device::CPU, op);
  dispatch_float(a.dtype, op, [&]<class T>() {
    NDArray target = a.is_contiguous() ? a : empty(a.shape, a.dtype);
    fill(target.data<T>(), target.numel());
    if (!a.is_contiguous()) copy_(a, target);
  });
  a.bump_version();
}

}  // namespace

NDArray rand(const Shape& shape, DType dtype, PhiloxGenerator* gen) {
  NDArray out = empty(shape, dtype);
  dispatch_float(dtype, "rand", [&]<class T>() { fill_unit(stream(gen), out.data<T>(), out.numel(), [](T u) { return u; }); });
  return out;
}

NDArray randn(const Shape& shape, DType dtype, PhiloxGenerator* gen) {
  NDArray out = empty(shape, dtype);
  dispatch_float(dtype, "randn", [&]<class T>() { fill_normal(stream(gen), out.data<T>(), out.numel(), 0.0, 1.0); });
  return out;
}

void uniform_(const NDArray& a, double low, double high, PhiloxGenerator* gen) {
  DC_CHECK(low <= high, "uniform_: expects to return a [from, to) range, but found from=" << low << " > to=" << high);
  fill_in_place(a, "uniform_", [&]<class T>(T* p, int64_t n) {
    const T lo = static_cast<T>(low), span = static_cast<T>(high - low);
    // u < 1, but lo + span * u can still round up to `high` in float32: keep the range half-open.
    const T below = std::nextafter(static_cast<T>(high), static_cast<T>(low));
    fill_unit(stream(gen), p, n, [&](T u) {
      T v = lo + span * u;
      return (v >= static_cast<T>(high) && span > T(0)) ? below : v;
    });
  });
}

void normal_(const NDArray& a, double mean, double std, PhiloxGenerator* gen) {
  DC_CHECK(std >= 0.0, "normal_: expects std >= 0.0, but found std " << std);
  fill_in_place(a, "normal_", [&]<class T>(T* p, int64_t n) { fill_normal(stream(gen), p, n, mean, std); });
}

void exponential_(const NDArray& a, double lambd, PhiloxGenerator* gen) {
  DC_CHECK(lambd > 0.0, "exponential_: expects lambda > 0.0, but found lambda=" << lambd);
  fill_in_place(a, "exponential_", [&]<class T>(T* p, int64_t n) {
    // 1 - u lies in (0, 1]: the log is finite.
    fill_unit(stream(gen), p, n, [&](T u) { return static_cast<T>(-std::log1p(-static_cast<double>(u)) / lambd); });
  });
}

NDArray multinomial(const NDArray& probs, int64_t num_samples, bool replacement, PhiloxGenerator* gen) {
  check_device(probs, Device::CPU, "multinomial");
  DC_CHECK(probs.ndim() == 2 && probs.is_contiguous(),
           "multinomial: expects a contiguous (rows, categories) array, got " << shape_str(probs.shape));
  DC_CHECK(num_samples > 0, "multinomial: cannot sample n_sample <= 0 samples");
  const int64_t rows = probs.shape[0], n = probs.shape[1];
  DC_CHECK(n > 0, "multinomial: the distribution has no categories");
  DC_CHECK(replacement || num_samples <= n,
           "multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement");
  NDArray out = empty({rows, num_samples}, DType::Int64);
  dispatch_float(probs.dtype, "multinomial", [&]<class T>() {
    const T* w = probs.data<T>();
    // Checked before any thread starts: no exception may leave a parallel region.
    for (int64_t r = 0; r < rows; ++r) {
      double total = 0.0;
      int64_t positive = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(w[r * n + i]);
        DC_CHECK(std::isfinite(v) && v >= 0.0,
                 "multinomial: probability tensor contains either `inf`, `nan` or element < 0");
        total += v;
        positive += v > 0.0;
      }
      DC_CHECK(total > 0.0, "multinomial: invalid multinomial distribution (sum of probabilities <= 0)");
      DC_CHECK(replacement || positive >= num_samples,
               "multinomial: invalid multinomial distribution (with replacement=False, not enough non-negative "
               "category to sample)");
    }
    // One double uniform per draw (two words: half a block), or per category without replacement.
    const int64_t per_row = ((replacement ? num_samples : n) + 1) / 2;
    auto [seed, first] = stream(gen).reserve(static_cast<uint64_t>(rows * per_row));
    int64_t* po = out.data<int64_t>();
    parallel_for(rows, 1, [&](int64_t b, int64_t e) {
      std::vector<double> acc(static_cast<size_t>(n));
      std::vector<int64_t> order;
      for (int64_t r = b; r < e; ++r) {
        const T* row = w + r * n;
        const uint64_t base = first + static_cast<uint64_t>(r * per_row);
        auto unit = [&](int64_t k) {  // the k-th uniform of this row, in [0, 1)
          const Block blk = philox(base + static_cast<uint64_t>(k / 2), seed);
          return to_unit_double(blk[2 * (k % 2)], blk[2 * (k % 2) + 1]);
        };
        if (replacement) {
          double run = 0.0;
          int64_t last = 0;  // the last category with weight: where rounding at the top end lands
          for (int64_t i = 0; i < n; ++i) {
            run += static_cast<double>(row[i]);
            acc[static_cast<size_t>(i)] = run;
            if (row[i] > T(0)) last = i;
          }
          for (int64_t s = 0; s < num_samples; ++s) {
            const double target = unit(s) * run;
            // The first category whose running sum exceeds the target: weight-0 ones never are.
            int64_t i = std::upper_bound(acc.begin(), acc.end(), target) - acc.begin();
            po[r * num_samples + s] = std::min(i, last);
          }
        } else {
          for (int64_t i = 0; i < n; ++i) {
            const double v = static_cast<double>(row[i]);
            acc[static_cast<size_t>(i)] = v > 0.0 ? -std::log1p(-unit(i)) / v : HUGE_VAL;
          }
          order.resize(static_cast<size_t>(n));
          for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
          std::partial_sort(order.begin(), order.begin() + num_samples, order.end(),
                            [&](int64_t x, int64_t y) { return acc[static_cast<size_t>(x)] < acc[static_cast<size_t>(y)]; });
          for (int64_t s = 0; s < num_samples; ++s) po[r * num_samples + s] = order[static_cast<size_t>(s)];
        }
      }
    });
  });
  return out;
}

NDArray randint(int64_t low, int64_t high, const Shape& shape, PhiloxGenerator* gen) {
  DC_CHECK(high > low, "randint: high (" << high << ") must be greater than low (" << low << ")");
  NDArray out = empty(shape, DType::Int64);
  const int64_t n = out.numel();
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const int64_t blocks = (n + 1) / 2;
  auto [seed, first] = stream(gen).reserve(blocks);
  int64_t* p = out.data<int64_t>();
  parallel_for(blocks, 4096, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      Block r = philox(first + j, seed);
      for (int l = 0; l < 2 && 2 * j + l < n; ++l) {
        // 64 random bits: the modulo bias is below 2^-32 for any range we allocate.
        uint64_t bits = (uint64_t(r[2 * l]) << 32) | r[2 * l + 1];
        p[2 * j + l] = low + static_cast<int64_t>(bits % range);
      }
    }
  });
  return out;
}

NDArray randperm(int64_t n, PhiloxGenerator* gen) {
  DC_CHECK(n >= 0, "randperm: n must be non-negative, got " << n);
  NDArray out = empty({n}, DType::Int64);
  int64_t* p = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  if (n < 2) return out;
  auto [seed, first] = stream(gen).reserve(static_cast<uint64_t>(n));
  // Fisher-Yates, one counter per swap.
  for (int64_t i = n - 1; i > 0; --i) {
    Block r = philox(first + static_cast<uint64_t>(i), seed);
    uint64_t bits = (uint64_t(r[0]) << 32) | r[1];
    int64_t j = static_cast<int64_t>(bits % static_cast<uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return out;
}

}  // namespace deepcore::cpu
