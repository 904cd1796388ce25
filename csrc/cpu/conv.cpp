// conv2d on the packed GEMM. For one image and one group:
//
//   forward          out (Og x OHW)  = W (Og x Ckk) @ col (Ckk x OHW)      [+ bias]
//   backward input   col             = W^T @ grad_out, then col2im into dx
//   backward weight  dW (Og x Ckk)  += grad_out @ col^T
//
// where col = im2col(x): row (c, ky, kx) holds the input pixel that tap sees
// for every output pixel (zero in the padding). A 1x1 kernel with stride 1 and
// no padding needs no col: the input plane already is that matrix.
//
// Work is split into units (an image and a group; a run of images for the
// weight gradient). With enough units each thread takes whole units and runs
// its GEMMs alone, which beats splitting every small GEMM of the lecture's
// CNN; with few units (batch 1) the units run in turn on a threaded GEMM.
// col is built a tile of output pixels at a time, so it stays in cache.
#include "cpu/conv.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/parallel.h"
#include "common/workspace.h"
#include "cpu/gemm.h"
#include "cpu/memory.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {
namespace {

// Elements of one col tile: 1 MiB of float32, well inside L2 next to the packed GEMM panels.
constexpr int64_t kColTileElements = int64_t(1) << 18;
// The weight gradient is summed per run of images into its own partial. The
// number of runs depends on the batch and weight sizes only, never on the
// thread count, so every thread count gives bit-identical gradients.
constexpr int64_t kMaxWeightRuns = 32;
constexpr int64_t kPartialBudgetElements = int64_t(1) << 22;

struct Geometry : ConvGeometry {  // the checked shapes (common/conv_geometry.h) and the im2col plan
  int64_t Ckk;   // Cg * kh * kw
  int64_t tile;  // output pixels per col tile
  bool direct;   // 1x1, stride 1, no padding: x itself is col

  int64_t HW() const { return H * W; }
  int64_t OHW() const { return OH * OW; }
};

void check_array(const char* op, const char* what, const NDArray& a, DType dtype) {
  check_device(a, Device::CPU, op);
  DC_CHECK_TYPE(a.dtype == DType::Float32 || a.dtype == DType::Float64,
                op << ": " << what << " must be float32 or float64, got " << dtype_name(a.dtype));
  DC_CHECK_TYPE(a.dtype == dtype, op << ": " << what << " is " << dtype_name(a.dtype) << " but expected "
                                     << dtype_name(dtype) << " like the other operands");
}

// Checks every size and parameter (conv_geometry); after this no kernel argument can be invalid.
Geometry make_geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  Geometry g{};
  static_cast<ConvGeometry&>(g) = conv_geometry(op, x, w, p);
  g.Ckk = g.Cg * g.kh * g.kw;
  g.direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.OH == g.H &&
             g.OW == g.W;
  const int64_t tiles = std::max<int64_t>(1, (g.Ckk * g.OHW() + kColTileElements - 1) / kColTileElements);
  g.tile = std::max<int64_t>(1, (g.OHW() + tiles - 1) / tiles);
  return g;
}

template <class T>
T* col_workspace(int64_t count) {
  thread_local Workspace workspace;
  return workspace.get<T>(count);
}

// Runs body(u) for every unit; returns false if some thread could not get
// its workspace (reported by the caller after the parallel region).
template <class F>
bool run_units(int64_t units, const F& body) {
  std::atomic<bool> ok{true};
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u)
      if (!body(u)) {
        ok = false;
        return;
      }
  };
  const int threads = get_num_threads();
  // Whole units per thread when they share out evenly; else threaded GEMMs.
  if (threads > 1 && (units % threads == 0 || units >= 4 * threads))
    parallel_for(units, 1, run);
  else
    run(0, units);
  return ok;
}

// Output columns ox in [lo, hi) whose input column ox * s + off lies in [0, W).
void valid_columns(int64_t off, int64_t s, int64_t W, int64_t OW, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  hi = W - 1 - off < 0 ? 0 : (W - 1 - off) / s + 1;
  lo = std::min(lo, OW);
  hi = std::clamp(hi, lo, OW);
}

// Calls fn(row (c, ky, kx), plane c, first output pixel j, ox0, ox1, iy, lo, hi, xoff)
// for each run of output pixels [j, j + ox1 - ox0) of the tile [j0, j1) that lies on one output row.
// Small images make these runs short (7-28 pixels, thousands per image), so the
// walk keeps (oy, ox0) by increment instead of dividing j for every run.
template <class F>
void for_each_tap_run(const Geometry& g, int64_t j0, int64_t j1, const F& fn) {
  const int64_t oy_first = j0 / g.OW, ox_first = j0 % g.OW;
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t row = (c * g.kh + ky) * g.kw + kx;
        const int64_t yoff = ky * g.dh - g.ph, xoff = kx * g.dw - g.pw;
        int64_t lo_all, hi_all;
        valid_columns(xoff, g.sw, g.W, g.OW, lo_all, hi_all);
        int64_t oy = oy_first, ox0 = ox_first;
        for (int64_t j = j0; j < j1; j += g.OW - ox0, ox0 = 0, ++oy) {
          const int64_t ox1 = std::min(g.OW, ox0 + (j1 - j));
          const int64_t iy = oy * g.sh + yoff;
          const bool inside = iy >= 0 && iy < g.H;
          const int64_t lo = inside ? std::clamp(lo_all, ox0, ox1) : ox1;
          const int64_t hi = inside ? std::clamp(hi_all, lo, ox1) : ox1;
          fn(row, c, j, ox0, ox1, iy, lo, hi, xoff);
        }
      }
}

// col (Ckk x (j1 - j0)) = the input pixels each tap sees for output pixels [j0, j1).
// Plain loops, not fill/memcpy calls: most runs are shorter than a call costs.
template <class T>
void im2col(const Geometry& g, const T* x, int64_t j0, int64_t j1, T* col) {
  const int64_t cols = j1 - j0;
  for_each_tap_run(g, j0, j1, [&](int64_t row, int64_t c, int64_t j, int64_t ox0, int64_t ox1, int64_t iy,
                                  int64_t lo, int64_t hi, int64_t xoff) {
    T* d = col + row * cols + (j - j0) - ox0;  // d[ox]
    for (int64_t ox = ox0; ox < lo; ++ox) d[ox] = T(0);
    if (lo < hi) {
      const T* src = x + c * g.HW() + iy * g.W + xoff;  // src[ox * sw], valid for ox in [lo, hi)
      if (g.sw == 1)
        for (int64_t ox = lo; ox < hi; ++ox) d[ox] = src[ox];
      else
        for (int64_t ox = lo; ox < hi; ++ox) d[ox] = src[ox * g.sw];
    }
    for (int64_t ox = hi; ox < ox1; ++ox) d[ox] = T(0);
  });
}

// dx += col2im(col): every tap's value goes back to the input pixel it came from.
template <class T>
void col2im_add(const Geometry& g, const T* col, int64_t j0, int64_t j1, T* dx) {
  const int64_t cols = j1 - j0;
  for_each_tap_run(g, j0, j1, [&](int64_t row, int64_t c, int64_t j, int64_t ox0, int64_t, int64_t iy, int64_t lo,
                                  int64_t hi, int64_t xoff) {
    const T* s = col + row * cols + (j - j0) - ox0;
    T* dst = dx + c * g.HW() + iy * g.W + xoff;
    if (g.sw == 1)
      for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += s[ox];
    else
      for (int64_t ox = lo; ox < hi; ++ox) dst[ox * g.sw] += s[ox];
  });
}

template <class T>
bool forward_unit(const Geometry& g, const T* x, const T* w, const T* bias, T* out, int64_t u) {
  const int64_t n = u / g.G, grp = u % g.G, OHW = g.OHW();
  const T* xg = x + (n * g.C + grp * g.Cg) * g.HW();
  const T* wg = w + grp * g.Og * g.Ckk;
  T* og = out + (n * g.O + grp * g.Og) * OHW;
  T beta = T(0);
  if (bias) {
    for (int64_t o = 0; o < g.Og; ++o) std::fill(og + o * OHW, og + (o + 1) * OHW, bias[grp * g.Og + o]);
    beta = T(1);
  }
  if (g.Ckk == 0) {  // no input channels: the output is the bias
    if (!bias) std::fill(og, og + g.Og * OHW, T(0));
    return true;
  }
  if (g.direct) {
    gemm(false, false, g.Og, OHW, g.Ckk, T(1), wg, g.Ckk, xg, g.HW(), beta, og, OHW);
    return true;
  }
  T* col = col_workspace<T>(g.Ckk * g.tile);
  if (!col) return false;
  for (int64_t j0 = 0; j0 < OHW; j0 += g.tile) {
    const int64_t j1 = std::min(OHW, j0 + g.tile), cols = j1 - j0;
    im2col(g, xg, j0, j1, col);
    gemm(false, false, g.Og, cols, g.Ckk, T(1), wg, g.Ckk, col, cols, beta, og + j0, OHW);
  }
  return true;
}

template <class T>
bool backward_input_unit(const Geometry& g, const T* grad, const T* w, T* dx, int64_t u) {
  const int64_t n = u / g.G, grp = u % g.G, OHW = g.OHW();
  const T* gg = grad + (n * g.O + grp * g.Og) * OHW;
  const T* wg = w + grp * g.Og * g.Ckk;
  T* dxg = dx + (n * g.C + grp * g.Cg) * g.HW();
  if (g.direct) {
    gemm(true, false, g.Ckk, OHW, g.Og, T(1), wg, g.Ckk, gg, OHW, T(0), dxg, g.HW());
    return true;
  }
  T* col = col_workspace<T>(g.Ckk * g.tile);
  if (!col) return false;
  std::fill(dxg, dxg + g.Cg * g.HW(), T(0));
  for (int64_t j0 = 0; j0 < OHW; j0 += g.tile) {
    const int64_t j1 = std::min(OHW, j0 + g.tile), cols = j1 - j0;
    gemm(true, false, g.Ckk, cols, g.Og, T(1), wg, g.Ckk, gg + j0, OHW, T(0), col, cols);
    col2im_add(g, col, j0, j1, dxg);
  }
  return true;
}

// One run of images [n0, n1) summed into `part`: the weight gradient
// (O x Ckk, or per group Ckk x Og when `transposed`) followed by O bias sums.
// Transposed puts the larger of Og and Ckk along the GEMM's columns, which
// fills the register tile better when Ckk is tiny (a 3x3 kernel on one channel).
template <class T>
bool backward_weight_run(const Geometry& g, const T* grad, const T* x, bool transposed, bool with_bias, int64_t n0,
                         int64_t n1, T* part) {
  const int64_t OHW = g.OHW();
  std::fill(part, part + g.O * g.Ckk + g.O, T(0));
  T* col = g.direct ? nullptr : col_workspace<T>(g.Ckk * g.tile);
  if (!g.direct && !col) return false;
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* gg = grad + (n * g.O + grp * g.Og) * OHW;
      const T* xg = x + (n * g.C + grp * g.Cg) * g.HW();
      T* pw = part + grp * g.Og * g.Ckk;
      for (int64_t j0 = 0; j0 < OHW && g.Ckk > 0; j0 += g.tile) {
        const int64_t j1 = std::min(OHW, j0 + g.tile), cols = j1 - j0;
        const T* cg = xg + j0;  // direct: x's plane is col (ld = HW)
        int64_t ldcol = g.HW();
        if (!g.direct) {
          im2col(g, xg, j0, j1, col);
          cg = col;
          ldcol = cols;
        }
        if (transposed)
          gemm(false, true, g.Ckk, g.Og, cols, T(1), cg, ldcol, gg + j0, OHW, T(1), pw, g.Og);
        else
          gemm(false, true, g.Og, g.Ckk, cols, T(1), gg + j0, OHW, cg, ldcol, T(1), pw, g.Ckk);
      }
      if (with_bias) {
        // The ISA's own sum: this file is built for baseline x86-64, where the
        // reduction compiled to one dependent SSE add chain (22 % of a
        // one-channel layer's weight gradient).
        const auto vsum = vec::kernels<T>().sum;
        T* pb = part + g.O * g.Ckk + grp * g.Og;
        for (int64_t o = 0; o < g.Og; ++o) pb[o] += static_cast<T>(vsum(gg + o * OHW, OHW));
      }
    }
  return true;
}

// After the parallel region: a thread that could not get its col buffer left its units undone.
void check_workspace(bool ok) {
  if (!ok) throw std::bad_alloc();
}

}  // namespace

NDArray conv2d_forward(const NDArray& x, const NDArray& weight, const std::optional<NDArray>& bias,
                       const Conv2dParams& p) {
  const char* op = "conv2d";
  check_device(x, Device::CPU, op);
  check_array(op, "input", x, x.dtype);
  check_array(op, "weight", weight, x.dtype);
  const Geometry g = make_geometry(op, x.shape, weight.shape, p);
  if (bias) {
    check_array(op, "bias", *bias, x.dtype);
    DC_CHECK(bias->ndim() == 1 && bias->shape[0] == g.O, op << ": bias must have shape (" << g.O
                                                            << ",) to match the weight, got "
                                                            << shape_str(bias->shape));
  }
  NDArray out = empty({g.N, g.O, g.OH, g.OW}, x.dtype);
  if (out.numel() == 0) return out;
  const NDArray cx = contiguous(x), cw = contiguous(weight);
  const NDArray cb = bias ? contiguous(*bias) : NDArray();
  bool ok;
  if (x.dtype == DType::Float32) {
    const float* b = bias ? cb.data<float>() : nullptr;
    ok = run_units(g.N * g.G, [&](int64_t u) {
      return forward_unit<float>(g, cx.data<float>(), cw.data<float>(), b, out.data<float>(), u);
    });
  } else {
    const double* b = bias ? cb.data<double>() : nullptr;
    ok = run_units(g.N * g.G, [&](int64_t u) {
      return forward_unit<double>(g, cx.data<double>(), cw.data<double>(), b, out.data<double>(), u);
    });
  }
  check_workspace(ok);
  return out;
}

NDArray conv2d_backward_input(const NDArray& grad_out, const NDArray& weight, const Shape& input_shape,
                              const Conv2dParams& p) {
  const char* op = "conv2d_backward_input";
  check_array(op, "grad_out", grad_out, grad_out.dtype);
  check_array(op, "weight", weight, grad_out.dtype);
  const Geometry g = make_geometry(op, input_shape, weight.shape, p);
  const Shape expected{g.N, g.O, g.OH, g.OW};
  DC_CHECK(grad_out.shape == expected, op << ": grad_out has shape " << shape_str(grad_out.shape)
                                          << " but the convolution's output has shape " << shape_str(expected));
  NDArray dx = empty(input_shape, grad_out.dtype);
  if (dx.numel() == 0) return dx;
  if (g.O == 0) {
    std::memset(dx.raw(), 0, static_cast<size_t>(dx.numel()) * dx.item_size());
    return dx;
  }
  const NDArray cg = contiguous(grad_out), cw = contiguous(weight);
  bool ok;
  if (grad_out.dtype == DType::Float32)
    ok = run_units(g.N * g.G, [&](int64_t u) {
      return backward_input_unit<float>(g, cg.data<float>(), cw.data<float>(), dx.data<float>(), u);
    });
  else
    ok = run_units(g.N * g.G, [&](int64_t u) {
      return backward_input_unit<double>(g, cg.data<double>(), cw.data<double>(), dx.data<double>(), u);
    });
  check_workspace(ok);
  return dx;
}

namespace {

template <class T>
void backward_weight_impl(const Geometry& g, const T* grad, const T* x, bool with_bias, T* dw, T* db) {
  const int64_t part_size = g.O * g.Ckk + g.O;
  const int64_t runs = std::clamp<int64_t>(kPartialBudgetElements / std::max<int64_t>(part_size, 1), 1,
                                           std::min(g.N, kMaxWeightRuns));
  const bool transposed = g.Ckk < g.Og;
  NDArray partials = empty({runs, part_size}, sizeof(T) == 4 ? DType::Float32 : DType::Float64);
  T* parts = partials.data<T>();
  const bool ok = run_units(runs, [&](int64_t r) {
    return backward_weight_run<T>(g, grad, x, transposed, with_bias, r * g.N / runs, (r + 1) * g.N / runs,
                                  parts + r * part_size);
  });
  check_workspace(ok);
  // Sum the runs in order; undo the per-group transposition on the way.
  const int64_t wsize = g.O * g.Ckk;
  parallel_for(part_size, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t src = i;
      if (transposed && i < wsize) {
        const int64_t grp = i / (g.Og * g.Ckk), within = i % (g.Og * g.Ckk);
        const int64_t o = within / g.Ckk, k = within % g.Ckk;
        src = grp * g.Og * g.Ckk + k * g.Og + o;
      }
      T s = T(0);
      for (int64_t r = 0; r < runs; ++r) s += parts[r * part_size + src];
      if (i < wsize)
        dw[i] = s;
      else if (db)
        db[i - wsize] = s;
    }
  });
}

}  // namespace

std::pair<NDArray, std::optional<NDArray>> conv2d_backward_weight(const NDArray& grad_out, const NDArray& x,
                                                                  const Shape& weight_shape, bool with_bias,
                                                                  const Conv2dParams& p) {
  const char* op = "conv2d_backward_weight";
  check_array(op, "grad_out", grad_out, grad_out.dtype);
  check_array(op, "input", x, grad_out.dtype);
  const Geometry g = make_geometry(op, x.shape, weight_shape, p);
  const Shape expected{g.N, g.O, g.OH, g.OW};
  DC_CHECK(grad_out.shape == expected, op << ": grad_out has shape " << shape_str(grad_out.shape)
                                          << " but the convolution's output has shape " << shape_str(expected));
  NDArray dw = empty(weight_shape, x.dtype);
  std::optional<NDArray> db;
  if (with_bias) db = empty({g.O}, x.dtype);
  if (g.N == 0 || g.O == 0) {
    std::memset(dw.raw(), 0, static_cast<size_t>(dw.numel()) * dw.item_size());
    if (db) std::memset(db->raw(), 0, static_cast<size_t>(db->numel()) * db->item_size());
    return {dw, db};
  }
  const NDArray cg = contiguous(grad_out), cx = contiguous(x);
  if (x.dtype == DType::Float32)
    backward_weight_impl<float>(g, cg.data<float>(), cx.data<float>(), with_bias, dw.data<float>(),
                                db ? db->data<float>() : nullptr);
  else
    backward_weight_impl<double>(g, cg.data<double>(), cx.data<double>(), with_bias, dw.data<double>(),
                                 db ? db->data<double>() : nullptr);
  return {dw, db};
}

}  // namespace deepcore::cpu
