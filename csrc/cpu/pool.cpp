// Pooling and upsampling work plane by plane (one image, one channel): planes
// are independent, so threads take runs of planes and no two threads ever
// write the same element. The lecture's 2x2 / stride 2 max pool has its own
// loop, written so the compiler vectorizes it along the width.
#include "cpu/pool.h"

#include <algorithm>
#include <cstring>

#include "common/parallel.h"
#include "cpu/memory.h"

namespace deepcore::cpu {
namespace {

void check_float(const char* op, const char* what, const NDArray& a) {
  check_device(a, Device::CPU, op);
  DC_CHECK_TYPE(a.dtype == DType::Float32 || a.dtype == DType::Float64,
                op << ": " << what << " must be float32 or float64, got " << dtype_name(a.dtype));
}

// fn(begin, end) over runs of planes of about 32K elements each.
template <class F>
void for_planes(int64_t planes, int64_t plane_elements, const F& fn) {
  parallel_for(planes, std::max<int64_t>(1, 32768 / std::max<int64_t>(plane_elements, 1)), fn);
}

// The window of output (oy, ox), clipped to the input.
struct Window {
  int64_t y0, y1, x0, x1;
};

inline Window window_of(const PoolGeometry& g, int64_t oy, int64_t ox) {
  const int64_t y = oy * g.sh - g.ph, x = ox * g.sw - g.pw;
  return {std::max<int64_t>(y, 0), std::min(y + g.kh, g.H), std::max<int64_t>(x, 0), std::min(x + g.kw, g.W)};
}

// PyTorch's rule: a later element wins if it is larger or NaN.
template <class T>
inline bool takes_over(T v, T best) {
  return v > best || v != v;
}

// Index in the plane of the window's maximum (padding never wins: with
// padding <= kernel / 2 every window holds at least one input element).
template <class T>
inline int64_t window_argmax(const T* plane, const PoolGeometry& g, const Window& w) {
  int64_t best = w.y0 * g.W + w.x0;
  T m = plane[best];
  for (int64_t y = w.y0; y < w.y1; ++y)
    for (int64_t x = w.x0; x < w.x1; ++x) {
      const T v = plane[y * g.W + x];
      if (takes_over(v, m)) {
        m = v;
        best = y * g.W + x;
      }
    }
  return best;
}

bool is_2x2_stride_2(const PoolGeometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
}

template <class T>
void max_pool_forward_plane(const PoolGeometry& g, const T* x, T* out) {
  if (is_2x2_stride_2(g)) {
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const T* r0 = x + 2 * oy * g.W;
      const T* r1 = r0 + g.W;
      T* o = out + oy * g.OW;
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        T m = r0[2 * ox];
        const T b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
        m = takes_over(b, m) ? b : m;
        m = takes_over(c, m) ? c : m;
        m = takes_over(d, m) ? d : m;
        o[ox] = m;
      }
    }
    return;
  }
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox) out[oy * g.OW + ox] = x[window_argmax(x, g, window_of(g, oy, ox))];
}

template <class T>
void max_pool_backward_plane(const PoolGeometry& g, const T* grad, const T* x, T* dx) {
  if (is_2x2_stride_2(g)) {
    // Windows tile the input: every element is written once, no zero-fill first.
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const T* r0 = x + 2 * oy * g.W;
      const T* r1 = r0 + g.W;
      T* d0 = dx + 2 * oy * g.W;
      T* d1 = d0 + g.W;
      const T* go = grad + oy * g.OW;
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        // Branch-free (random data makes the winner unpredictable), so it vectorizes.
        const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
        const bool b_wins = takes_over(b, a);
        const T m1 = b_wins ? b : a;
        const bool c_wins = takes_over(c, m1);
        const T m2 = c_wins ? c : m1;
        const bool d_wins = takes_over(d, m2);
        // The gradient goes to the last element that took over; `rest` is what is still unplaced.
        T rest = go[ox];
        d1[2 * ox + 1] = d_wins ? rest : T(0);
        rest = d_wins ? T(0) : rest;
        d1[2 * ox] = c_wins ? rest : T(0);
        rest = c_wins ? T(0) : rest;
        d0[2 * ox + 1] = b_wins ? rest : T(0);
        d0[2 * ox] = b_wins ? T(0) : rest;
      }
      if (g.W > 2 * g.OW) {  // odd width: the last column belongs to no window
        d0[g.W - 1] = T(0);
        d1[g.W - 1] = T(0);
      }
    }
    if (g.H > 2 * g.OH) std::fill(dx + 2 * g.OH * g.W, dx + (g.H * g.W), T(0));
    return;
  }
  std::fill(dx, dx + (g.H * g.W), T(0));
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox) dx[window_argmax(x, g, window_of(g, oy, ox))] += grad[oy * g.OW + ox];
}

template <class T>
void avg_pool_forward_plane(const PoolGeometry& g, const T* x, T* out) {
  const T count = T(g.kh * g.kw);  // padding counts (count_include_pad)
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const Window w = window_of(g, oy, ox);
      T s = T(0);
      for (int64_t y = w.y0; y < w.y1; ++y)
        for (int64_t xx = w.x0; xx < w.x1; ++xx) s += x[y * g.W + xx];
      out[oy * g.OW + ox] = s / count;
    }
}

template <class T>
void avg_pool_backward_plane(const PoolGeometry& g, const T* grad, T* dx) {
  const T count = T(g.kh * g.kw);
  std::fill(dx, dx + (g.H * g.W), T(0));
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const Window w = window_of(g, oy, ox);
      const T v = grad[oy * g.OW + ox] / count;
      for (int64_t y = w.y0; y < w.y1; ++y)
        for (int64_t xx = w.x0; xx < w.x1; ++xx) dx[y * g.W + xx] += v;
    }
}

// Applies plane_fn(plane index, T) to every plane, in float32 or float64.
template <class F>
void dispatch_planes(DType dtype, int64_t planes, int64_t plane_elements, const F& plane_fn) {
  for_planes(planes, plane_elements, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (dtype == DType::Float32)
        plane_fn(i, float{});
      else
        plane_fn(i, double{});
    }
  });
}

template <class T>
const T* ptr(const NDArray& a, int64_t offset) {
  return a.data<T>() + offset;
}
template <class T>
T* mut(const NDArray& a, int64_t offset) {
  return a.data<T>() + offset;
}

void check_grad_shape(const char* op, const NDArray& grad, const Shape& expected) {
  DC_CHECK(grad.shape == expected, op << ": grad_out has shape " << shape_str(grad.shape)
                                      << " but the forward's output has shape " << shape_str(expected));
}

}  // namespace

NDArray max_pool2d_forward(const NDArray& x, const Pool2dParams& p) {
  const char* op = "max_pool2d";
  check_float(op, "input", x);
  const PoolGeometry g = pool_geometry(op, x.shape, p);
  NDArray out = empty({x.shape[0], x.shape[1], g.OH, g.OW}, x.dtype);
  const NDArray cx = contiguous(x);
  dispatch_planes(x.dtype, g.planes, (g.H * g.W), [&](int64_t i, auto t) {
    using T = decltype(t);
    max_pool_forward_plane<T>(g, ptr<T>(cx, i * (g.H * g.W)), mut<T>(out, i * (g.OH * g.OW)));
  });
  return out;
}

NDArray max_pool2d_backward(const NDArray& grad_out, const NDArray& x, const Pool2dParams& p) {
  const char* op = "max_pool2d_backward";
  check_float(op, "input", x);
  check_float(op, "grad_out", grad_out);
  DC_CHECK_TYPE(grad_out.dtype == x.dtype, op << ": grad_out is " << dtype_name(grad_out.dtype)
                                              << " but the input is " << dtype_name(x.dtype));
  const PoolGeometry g = pool_geometry(op, x.shape, p);
  check_grad_shape(op, grad_out, {x.shape[0], x.shape[1], g.OH, g.OW});
  NDArray dx = empty(x.shape, x.dtype);
  const NDArray cx = contiguous(x), cg = contiguous(grad_out);
  dispatch_planes(x.dtype, g.planes, (g.H * g.W), [&](int64_t i, auto t) {
    using T = decltype(t);
    max_pool_backward_plane<T>(g, ptr<T>(cg, i * (g.OH * g.OW)), ptr<T>(cx, i * (g.H * g.W)), mut<T>(dx, i * (g.H * g.W)));
  });
  return dx;
}

NDArray avg_pool2d_forward(const NDArray& x, const Pool2dParams& p) {
  const char* op = "avg_pool2d";
  check_float(op, "input", x);
  const PoolGeometry g = pool_geometry(op, x.shape, p);
  NDArray out = empty({x.shape[0], x.shape[1], g.OH, g.OW}, x.dtype);
  const NDArray cx = contiguous(x);
  dispatch_planes(x.dtype, g.planes, (g.H * g.W), [&](int64_t i, auto t) {
    using T = decltype(t);
    avg_pool_forward_plane<T>(g, ptr<T>(cx, i * (g.H * g.W)), mut<T>(out, i * (g.OH * g.OW)));
  });
  return out;
}

NDArray avg_pool2d_backward(const NDArray& grad_out, const Shape& input_shape, const Pool2dParams& p) {
  const char* op = "avg_pool2d_backward";
  check_float(op, "grad_out", grad_out);
  const PoolGeometry g = pool_geometry(op, input_shape, p);
  check_grad_shape(op, grad_out, {input_shape[0], input_shape[1], g.OH, g.OW});
  NDArray dx = empty(input_shape, grad_out.dtype);
  const NDArray cg = contiguous(grad_out);
  dispatch_planes(grad_out.dtype, g.planes, (g.H * g.W), [&](int64_t i, auto t) {
    using T = decltype(t);
    avg_pool_backward_plane<T>(g, ptr<T>(cg, i * (g.OH * g.OW)), mut<T>(dx, i * (g.H * g.W)));
  });
  return dx;
}

namespace {

void check_scale(const char* op, const std::array<int64_t, 2>& scale) {
  DC_CHECK(scale[0] >= 1 && scale[1] >= 1,
           op << ": scale factors must be positive integers, got (" << scale[0] << ", " << scale[1] << ")");
}

template <class T>
void upsample_forward_plane(int64_t H, int64_t W, int64_t sh, int64_t sw, const T* x, T* out) {
  const int64_t OW = W * sw;
  for (int64_t y = 0; y < H; ++y) {
    T* first = out + y * sh * OW;
    const T* src = x + y * W;
    for (int64_t xx = 0; xx < W; ++xx)
      for (int64_t r = 0; r < sw; ++r) first[xx * sw + r] = src[xx];
    for (int64_t r = 1; r < sh; ++r) std::memcpy(first + r * OW, first, static_cast<size_t>(OW) * sizeof(T));
  }
}

template <class T>
void upsample_backward_plane(int64_t H, int64_t W, int64_t sh, int64_t sw, const T* grad, T* dx) {
  const int64_t OW = W * sw;
  std::fill(dx, dx + H * W, T(0));
  for (int64_t y = 0; y < H; ++y) {
    T* d = dx + y * W;
    for (int64_t r = 0; r < sh; ++r) {
      const T* g = grad + (y * sh + r) * OW;
      for (int64_t xx = 0; xx < W; ++xx) {
        T s = T(0);
        for (int64_t c = 0; c < sw; ++c) s += g[xx * sw + c];
        d[xx] += s;
      }
    }
  }
}

}  // namespace

NDArray upsample_nearest2d_forward(const NDArray& x, const std::array<int64_t, 2>& scale) {
  const char* op = "upsample_nearest2d";
  check_float(op, "input", x);
  DC_CHECK(x.ndim() == 4, op << ": expected a 4-D input (N, C, H, W), got shape " << shape_str(x.shape));
  check_scale(op, scale);
  const int64_t H = x.shape[2], W = x.shape[3];
  NDArray out = empty({x.shape[0], x.shape[1], H * scale[0], W * scale[1]}, x.dtype);
  const NDArray cx = contiguous(x);
  dispatch_planes(x.dtype, x.shape[0] * x.shape[1], out.numel() / std::max<int64_t>(1, x.shape[0] * x.shape[1]),
                  [&](int64_t i, auto t) {
                    using T = decltype(t);
                    upsample_forward_plane<T>(H, W, scale[0], scale[1], ptr<T>(cx, i * H * W),
                                              mut<T>(out, i * H * W * scale[0] * scale[1]));
                  });
  return out;
}

NDArray upsample_nearest2d_backward(const NDArray& grad_out, const std::array<int64_t, 2>& scale) {
  const char* op = "upsample_nearest2d_backward";
  check_float(op, "grad_out", grad_out);
  DC_CHECK(grad_out.ndim() == 4, op << ": expected a 4-D grad_out, got shape " << shape_str(grad_out.shape));
  check_scale(op, scale);
  DC_CHECK(grad_out.shape[2] % scale[0] == 0 && grad_out.shape[3] % scale[1] == 0,
           op << ": grad_out shape " << shape_str(grad_out.shape) << " is not a multiple of the scale ("
              << scale[0] << ", " << scale[1] << ")");
  const int64_t H = grad_out.shape[2] / scale[0], W = grad_out.shape[3] / scale[1];
  NDArray dx = empty({grad_out.shape[0], grad_out.shape[1], H, W}, grad_out.dtype);
  const NDArray cg = contiguous(grad_out);
  dispatch_planes(grad_out.dtype, grad_out.shape[0] * grad_out.shape[1], H * W * scale[0] * scale[1],
                  [&](int64_t i, auto t) {
                    using T = decltype(t);
                    upsample_backward_plane<T>(H, W, scale[0], scale[1], ptr<T>(cg, i * H * W * scale[0] * scale[1]),
                                               mut<T>(dx, i * H * W));
                  });
  return dx;
}

}  // namespace deepcore::cpu
