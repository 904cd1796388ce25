// Philox 4x32-10 (Salmon et al., SC'11) and the distributions built on it.
#include "cpu/random.h"

#include <array>
#include <cmath>
#include <mutex>

#include "common/cpu_features.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

using Block = std::array<uint32_t, 4>;

inline Block philox(uint64_t counter, uint64_t seed) { return philox4x32(counter, seed); }

std::mutex g_rng_mutex;
uint64_t g_seed = 0x5EEDu;
uint64_t g_offset = 0;

// Reserves `blocks` counters of the global stream; returns (seed, first counter).
std::pair<uint64_t, uint64_t> reserve(uint64_t blocks) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  uint64_t first = g_offset;
  g_offset += blocks;
  return {g_seed, first};
}

// Uniform in [0, 1) with full mantissa precision.
inline float to_unit_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
inline double to_unit_double(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

std::pair<uint64_t, uint64_t> reserve_random_blocks(uint64_t blocks) { return reserve(blocks); }

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

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  g_seed = seed;
  g_offset = 0;
}

std::pair<uint64_t, uint64_t> get_rng_state() {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  return {g_seed, g_offset};
}

void set_rng_state(uint64_t seed, uint64_t offset) {
  std::lock_guard<std::mutex> lock(g_rng_mutex);
  g_seed = seed;
  g_offset = offset;
}

NDArray rand(const Shape& shape, DType dtype) {
  NDArray out = empty(shape, dtype);
  const int64_t n = out.numel();
  // float32: 4 numbers per block; float64: 2 (two words each).
  dispatch_float(dtype, "rand", [&]<class T>() {
    constexpr int64_t per = std::is_same_v<T, float> ? 4 : 2;
    const int64_t blocks = (n + per - 1) / per;
    auto [seed, first] = reserve(blocks);
    T* p = out.data<T>();
    parallel_for(blocks, 4096, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        Block r = philox(first + j, seed);
        for (int64_t l = 0; l < per && j * per + l < n; ++l) {
          if constexpr (per == 4) p[j * per + l] = to_unit_float(r[l]);
          else p[j * per + l] = to_unit_double(r[2 * l], r[2 * l + 1]);
        }
      }
    });
  });
  return out;
}

NDArray randn(const Shape& shape, DType dtype) {
  NDArray out = empty(shape, dtype);
  const int64_t n = out.numel();
  // Box-Muller: one block gives one pair of normals.
  dispatch_float(dtype, "randn", [&]<class T>() {
    const int64_t blocks = (n + 1) / 2;
    auto [seed, first] = reserve(blocks);
    T* p = out.data<T>();
    parallel_for(blocks, 2048, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        Block r = philox(first + j, seed);
        double u1 = 1.0 - to_unit_double(r[0], r[1]);  // (0, 1]: log never sees 0
        double u2 = to_unit_double(r[2], r[3]);
        double radius = std::sqrt(-2.0 * std::log(u1));
        double angle = 6.283185307179586 * u2;
        p[2 * j] = static_cast<T>(radius * std::cos(angle));
        if (2 * j + 1 < n) p[2 * j + 1] = static_cast<T>(radius * std::sin(angle));
      }
    });
  });
  return out;
}

NDArray randint(int64_t low, int64_t high, const Shape& shape) {
  DC_CHECK(high > low, "randint: high (" << high << ") must be greater than low (" << low << ")");
  NDArray out = empty(shape, DType::Int64);
  const int64_t n = out.numel();
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const int64_t blocks = (n + 1) / 2;
  auto [seed, first] = reserve(blocks);
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

NDArray randperm(int64_t n) {
  DC_CHECK(n >= 0, "randperm: n must be non-negative, got " << n);
  NDArray out = empty({n}, DType::Int64);
  int64_t* p = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  if (n < 2) return out;
  auto [seed, first] = reserve(static_cast<uint64_t>(n));
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
