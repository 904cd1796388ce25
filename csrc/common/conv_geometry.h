// The 2-D convolution parameters and the shapes they give, checked in one place for both engines
// (csrc/cpu/conv.cpp and its CUDA twin csrc/cuda/conv.cu): after conv_geometry no kernel argument can
// be invalid, and both refuse the same arguments with the same words. Plain C++ (nvcc, g++, emulator).
#pragma once
#include <array>

#include "common/ndarray.h"

namespace deepcore {

struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> pad_begin{0, 0};  // top, left
  std::array<int64_t, 2> pad_end{0, 0};    // bottom, right
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

// Passed by value to the CUDA kernels: plain fields only.
struct ConvGeometry {
  int64_t N, C, H, W;  // input
  int64_t O, kh, kw;   // weight (O, Cg, kh, kw)
  int64_t OH, OW;      // output
  int64_t G, Cg, Og;   // groups, input and output channels per group
  int64_t sh, sw, ph, pw, dh, dw;
};

inline ConvGeometry conv_geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  DC_CHECK(x.size() == 4, op << ": expected a 4-D input (N, C, H, W), got shape " << shape_str(x));
  DC_CHECK(w.size() == 4, op << ": expected a 4-D weight (O, C/groups, kh, kw), got shape " << shape_str(w));
  for (int d = 0; d < 2; ++d) {
    DC_CHECK(p.stride[d] >= 1, op << ": stride must be positive, got " << p.stride[d]);
    DC_CHECK(p.dilation[d] >= 1, op << ": dilation must be positive, got " << p.dilation[d]);
    DC_CHECK(p.pad_begin[d] >= 0 && p.pad_end[d] >= 0,
             op << ": padding must be non-negative, got " << p.pad_begin[d] << " and " << p.pad_end[d]);
  }
  DC_CHECK(p.groups >= 1, op << ": groups must be positive, got " << p.groups);
  ConvGeometry g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.O = w[0], g.Cg = w[1], g.kh = w[2], g.kw = w[3];
  g.G = p.groups;
  DC_CHECK(g.kh >= 1 && g.kw >= 1, op << ": the kernel must be at least 1x1, got weight shape " << shape_str(w));
  DC_CHECK(g.Cg * g.G == g.C, op << ": input has " << g.C << " channels but weight expects " << g.Cg * g.G
                                 << " (input shape " << shape_str(x) << ", weight shape " << shape_str(w)
                                 << ", groups " << g.G << ")");
  DC_CHECK(g.O % g.G == 0, op << ": weight has " << g.O << " output channels, not divisible by groups " << g.G);
  g.Og = g.O / g.G;
  g.sh = p.stride[0], g.sw = p.stride[1];
  g.ph = p.pad_begin[0], g.pw = p.pad_begin[1];
  g.dh = p.dilation[0], g.dw = p.dilation[1];
  const int64_t span_h = g.dh * (g.kh - 1) + 1, span_w = g.dw * (g.kw - 1) + 1;
  const int64_t in_h = g.H + g.ph + p.pad_end[0], in_w = g.W + g.pw + p.pad_end[1];
  DC_CHECK(in_h >= span_h && in_w >= span_w,
           op << ": the padded input (" << in_h << ", " << in_w << ") is smaller than the dilated kernel ("
              << span_h << ", " << span_w << ") (input shape " << shape_str(x) << ", weight shape "
              << shape_str(w) << ")");
  g.OH = (in_h - span_h) / g.sh + 1;
  g.OW = (in_w - span_w) / g.sw + 1;
  return g;
}

}  // namespace deepcore
