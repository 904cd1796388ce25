// The 2-D pooling parameters and the window geometry they give, checked in one place for both
// engines (csrc/cpu/pool.cpp and its CUDA twin csrc/cuda/pool.cu), so the two refuse the same
// arguments with the same words. Plain C++: nvcc, g++ and the launch emulator all include it.
#pragma once
#include <array>

#include "common/ndarray.h"

namespace deepcore {

struct Pool2dParams {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};  // both sides; at most half the kernel, as in PyTorch
};

// Passed by value to the CUDA kernels: plain fields only.
struct PoolGeometry {
  int64_t planes, H, W, OH, OW;
  int64_t kh, kw, sh, sw, ph, pw;
};

inline PoolGeometry pool_geometry(const char* op, const Shape& x, const Pool2dParams& p) {
  DC_CHECK(x.size() == 4, op << ": expected a 4-D input (N, C, H, W), got shape " << shape_str(x));
  for (int d = 0; d < 2; ++d) {
    DC_CHECK(p.kernel[d] >= 1, op << ": kernel_size must be positive, got " << p.kernel[d]);
    DC_CHECK(p.stride[d] >= 1, op << ": stride must be positive, got " << p.stride[d]);
    DC_CHECK(p.padding[d] >= 0 && 2 * p.padding[d] <= p.kernel[d],
             op << ": padding should be at most half of the kernel size, got padding " << p.padding[d]
                << " for kernel size " << p.kernel[d]);
  }
  PoolGeometry g{};
  g.planes = x[0] * x[1], g.H = x[2], g.W = x[3];
  g.kh = p.kernel[0], g.kw = p.kernel[1], g.sh = p.stride[0], g.sw = p.stride[1];
  g.ph = p.padding[0], g.pw = p.padding[1];
  const int64_t in_h = g.H + 2 * g.ph, in_w = g.W + 2 * g.pw;
  DC_CHECK(in_h >= g.kh && in_w >= g.kw, op << ": the padded input (" << in_h << ", " << in_w
                                            << ") is smaller than the kernel (" << g.kh << ", " << g.kw
                                            << ") (input shape " << shape_str(x) << ")");
  g.OH = (in_h - g.kh) / g.sh + 1;
  g.OW = (in_w - g.kw) / g.sw + 1;
  return g;
}

}  // namespace deepcore
