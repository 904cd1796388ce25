// Reductions: sum, mean, max, min over axes; argmax/argmin; a non-finite scan. The CUDA twin of
// csrc/cpu/reduce.cpp (same checks, same accumulator types, same NaN rules).
//
// One block per output element (a grid-stride loop over the outputs when there are more than
// kMaxBlocks): the block's threads stride over the reduced elements, each keeps a private
// accumulator, and block_reduce (warp shuffles, then shared memory) combines them. The order
// of a float sum therefore differs from the CPU's; float32 accumulates in float64 on both, so
// the results agree to float32 rounding.
#include "cuda/reduce.h"

#include <limits>
#include <type_traits>

#include "cuda/block_reduce.h"
#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

using detail::Indexer;
using detail::ValueIndex;

#ifdef DEEPCORE_CUDA_EMULATOR
// Few blocks on the emulator, so that its tests' small shapes also run the grid-stride loop over
// the outputs (one block reducing several outputs), which large tensors take on the device.
constexpr unsigned kMaxBlocks = 16;
#else
constexpr unsigned kMaxBlocks = 65535;
#endif

// ---- combine functors ----------------------------------------------------------------

struct SumF {
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};

template <bool kMax>
struct ExtremeF {  // NaN wins, as on the CPU (and in NumPy)
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const {
    if (a != a) return a;
    if (b != b) return b;
    return (kMax ? b > a : b < a) ? b : a;
  }
};

// The first extreme: NaN counts as the extreme, ties go to the lower index; index < 0 marks a
// thread that saw no element.
template <bool kMax>
struct ArgExtremeF {
  template <class T>
  __device__ __forceinline__ ValueIndex<T> operator()(ValueIndex<T> a, ValueIndex<T> b) const {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
    if (a_nan || b_nan) return a_nan && (!b_nan || a.index < b.index) ? a : b;
    if (kMax ? b.value > a.value : b.value < a.value) return b;
    return b.value == a.value && b.index < a.index ? b : a;
  }
};

// ---- kernels -------------------------------------------------------------------------

// out[k] = the reduction of a over the `count` elements at kept(k) + red(r).
template <class T, class Acc, class R, class F>
__global__ void reduce_kernel(const T* a, R* out, int64_t outputs, int64_t count, Indexer<1> kept, Indexer<1> red,
                              Acc init, bool mean, double scale, F combine) {
  for (int64_t k = blockIdx.x; k < outputs; k += gridDim.x) {
    int64_t base[1], off[1];
    kept.offsets(k, base);
    Acc acc = init;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) {
      red.offsets(r, off);
      acc = combine(acc, static_cast<Acc>(a[base[0] + off[0]]));
    }
    acc = detail::block_reduce(acc, combine);
    if (threadIdx.x == 0) {
      if (mean)
        out[k] = static_cast<R>(acc * scale);  // the CPU's formula: acc * (1 / count)
      else
        out[k] = static_cast<R>(acc);
    }
  }
}

// out[k] = the index along the axis of the first extreme of the `len` elements at kept(k) + r * stride.
template <class T, bool kMax>
__global__ void arg_reduce_kernel(const T* a, int64_t* out, int64_t outputs, int64_t len, int64_t stride,
                                  Indexer<1> kept) {
  const ArgExtremeF<kMax> combine{};
  for (int64_t k = blockIdx.x; k < outputs; k += gridDim.x) {
    int64_t base[1];
    kept.offsets(k, base);
    ValueIndex<T> best{T(0), -1};
    for (int64_t r = threadIdx.x; r < len; r += blockDim.x)
      best = combine(best, ValueIndex<T>{a[base[0] + r * stride], r});
    best = detail::block_reduce(best, combine);
    if (threadIdx.x == 0) out[k] = best.index;
  }
}

// *found = 1 when some element is NaN or +-inf. Every writer writes the same value, so the
// unsynchronised stores cannot disagree.
template <class T>
__global__ void nonfinite_kernel(const T* a, int64_t n, Indexer<1> ix, uint8_t* found) {
  bool bad = false;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[1];
    ix.offsets(i, off);
    const T x = a[off[0]];
    bad |= (x - x) != T(0);  // 0 for finite x, NaN for NaN or inf: one branch-free test (as on the CPU)
  }
  if (bad) *found = 1;
}

// ---- launchers -----------------------------------------------------------------------

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "mean", "max", "min"};
  return names[static_cast<int>(op)];
}

int64_t normalize_axis(int64_t axis, int ndim, const char* op) {
  const int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts axis 0 and -1, as in PyTorch
  DC_CHECK(axis >= -n && axis < n, op << ": axis " << axis << " is out of range for a tensor with " << ndim
                                      << " dimension(s)");
  return axis < 0 ? axis + n : axis;
}

Indexer<1> indexer_of(const Shape& shape, const Shape& strides, const char* op) {
  const Shape* st[1] = {&strides};
  return Indexer<1>(detail::collapse<1>(shape, st, op));
}

unsigned blocks_for(int64_t outputs) {
  return static_cast<unsigned>(outputs < kMaxBlocks ? outputs : kMaxBlocks);
}

template <class T, class Acc, class R>
void launch_reduce(ReduceOp op, const NDArray& a, const NDArray& out, int64_t outputs, int64_t count,
                   const Indexer<1>& kept, const Indexer<1>& red, const char* name) {
  const unsigned blocks = blocks_for(outputs), threads = detail::threads_for_reduction(count);
  const T* pa = a.data<T>();
  R* po = out.data<R>();
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    const bool mean = op == ReduceOp::Mean;
    const double scale = 1.0 / static_cast<double>(count);
    DEEPCORE_LAUNCH(name, blocks, threads, reduce_kernel<T, Acc, R, SumF>)(pa, po, outputs, count, kept, red, Acc(0),
                                                                          mean, scale, SumF{});
  } else if (op == ReduceOp::Max) {
    const Acc init = std::numeric_limits<Acc>::has_infinity ? -std::numeric_limits<Acc>::infinity()
                                                            : std::numeric_limits<Acc>::lowest();
    DEEPCORE_LAUNCH(name, blocks, threads, reduce_kernel<T, Acc, R, ExtremeF<true>>)(
        pa, po, outputs, count, kept, red, init, false, 1.0, ExtremeF<true>{});
  } else {
    const Acc init = std::numeric_limits<Acc>::has_infinity ? std::numeric_limits<Acc>::infinity()
                                                            : std::numeric_limits<Acc>::max();
    DEEPCORE_LAUNCH(name, blocks, threads, reduce_kernel<T, Acc, R, ExtremeF<false>>)(
        pa, po, outputs, count, kept, red, init, false, 1.0, ExtremeF<false>{});
  }
}

}  // namespace

NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int64_t>& axes_in, bool keepdim) {
  const std::string label = std::string("cuda ") + reduce_name(op);
  const char* name = reduce_name(op);
  detail::require_cuda(a, label.c_str());
  const int nd = a.ndim();
  std::vector<bool> is_red(nd, axes_in.empty());
  for (int64_t ax : axes_in) {
    const int64_t d = normalize_axis(ax, nd, name);
    if (nd == 0) continue;
    DC_CHECK(!is_red[d], name << ": axis " << ax << " appears twice");
    is_red[d] = true;
  }
  Shape kept_shape, kept_strides, red_shape, red_strides, out_shape;
  for (int d = 0; d < nd; ++d) {
    if (is_red[d]) {
      red_shape.push_back(a.shape[d]);
      red_strides.push_back(a.strides[d]);
      if (keepdim) out_shape.push_back(1);
    } else {
      kept_shape.push_back(a.shape[d]);
      kept_strides.push_back(a.strides[d]);
      out_shape.push_back(a.shape[d]);
    }
  }
  const int64_t outputs = numel_of(kept_shape), count = numel_of(red_shape);
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && outputs > 0)
    DC_CHECK(count > 0, name << ": cannot reduce over an empty dimension (input shape " << shape_str(a.shape)
                             << "); there is no identity for " << name);
  DC_CHECK_TYPE(a.dtype != DType::Bool || op == ReduceOp::Sum, name << ": not supported for bool tensors");
  DC_CHECK_TYPE(op != ReduceOp::Mean || a.dtype == DType::Float32 || a.dtype == DType::Float64,
                "mean: expected a float32 or float64 tensor, got " << dtype_name(a.dtype)
                                                                   << " (convert with .float() first)");
  const bool int_sum = op == ReduceOp::Sum && (a.dtype == DType::Bool || a.dtype == DType::Int64);
  const int dev = a.storage->device_index;
  detail::DeviceGuard g(dev, label.c_str());
  NDArray out = empty(out_shape, int_sum ? DType::Int64 : a.dtype, dev);
  if (outputs == 0) return out;
  const Indexer<1> kept = indexer_of(kept_shape, kept_strides, name), red = indexer_of(red_shape, red_strides, name);
  const bool sum_like = op == ReduceOp::Sum || op == ReduceOp::Mean;
  const char* l = label.c_str();
  switch (a.dtype) {  // the CPU's accumulator types: float32 sums in float64, integer sums in int64
    case DType::Float32:
      if (sum_like)
        launch_reduce<float, double, float>(op, a, out, outputs, count, kept, red, l);
      else
        launch_reduce<float, float, float>(op, a, out, outputs, count, kept, red, l);
      break;
    case DType::Float64: launch_reduce<double, double, double>(op, a, out, outputs, count, kept, red, l); break;
    case DType::Int64: launch_reduce<int64_t, int64_t, int64_t>(op, a, out, outputs, count, kept, red, l); break;
    case DType::Bool: launch_reduce<uint8_t, int64_t, int64_t>(op, a, out, outputs, count, kept, red, l); break;
  }
  return out;
}

NDArray arg_reduce(bool is_max, const NDArray& a, int64_t axis, bool keepdim) {
  const char* name = is_max ? "argmax" : "argmin";
  const std::string label = std::string("cuda ") + name;
  detail::require_cuda(a, label.c_str());
  DC_CHECK_TYPE(a.dtype != DType::Bool, name << ": not supported for bool tensors");
  const int nd = a.ndim();
  const int64_t ax = normalize_axis(axis, nd, name);
  const int64_t len = nd == 0 ? 1 : a.shape[ax], stride = nd == 0 ? 1 : a.strides[ax];
  Shape kept_shape, kept_strides, out_shape;
  for (int d = 0; d < nd; ++d) {
    if (d == ax) {
      if (keepdim) out_shape.push_back(1);
      continue;
    }
    kept_shape.push_back(a.shape[d]);
    kept_strides.push_back(a.strides[d]);
    out_shape.push_back(a.shape[d]);
  }
  const int64_t outputs = numel_of(kept_shape);
  if (outputs > 0)
    DC_CHECK(len > 0, name << ": cannot take " << name << " over an empty dimension (input shape "
                           << shape_str(a.shape) << ")");
  const int dev = a.storage->device_index;
  detail::DeviceGuard g(dev, label.c_str());
  NDArray out = empty(out_shape, DType::Int64, dev);
  if (outputs == 0) return out;
  const Indexer<1> kept = indexer_of(kept_shape, kept_strides, name);
  const unsigned blocks = blocks_for(outputs), threads = detail::threads_for_reduction(len);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    if (is_max)
      DEEPCORE_LAUNCH(label.c_str(), blocks, threads, arg_reduce_kernel<T, true>)(a.data<T>(), out.data<int64_t>(),
                                                                                 outputs, len, stride, kept);
    else
      DEEPCORE_LAUNCH(label.c_str(), blocks, threads, arg_reduce_kernel<T, false>)(a.data<T>(), out.data<int64_t>(),
                                                                                  outputs, len, stride, kept);
  };
  switch (a.dtype) {
    case DType::Float32: run(float{}); break;
    case DType::Float64: run(double{}); break;
    case DType::Int64: run(int64_t{}); break;
    case DType::Bool: break;  // refused above
  }
  return out;
}

bool has_nonfinite(const NDArray& a) {
  const char* name = "cuda has_nonfinite";
  detail::require_cuda(a, name);
  if (a.dtype != DType::Float32 && a.dtype != DType::Float64) return false;
  const int64_t n = a.numel();
  if (n == 0) return false;
  const int dev = a.storage->device_index;
  detail::DeviceGuard g(dev, name);
  NDArray found = full({1}, 0.0, DType::Bool, dev);
  const Indexer<1> ix = indexer_of(a.shape, a.strides, "has_nonfinite");
  if (a.dtype == DType::Float32)
    DEEPCORE_LAUNCH(name, detail::grid_for(n), detail::kThreads, nonfinite_kernel<float>)(a.data<float>(), n, ix,
                                                                                         found.data<uint8_t>());
  else
    DEEPCORE_LAUNCH(name, detail::grid_for(n), detail::kThreads, nonfinite_kernel<double>)(a.data<double>(), n, ix,
                                                                                          found.data<uint8_t>());
  const NDArray host = to_host(found);
  return host.data<uint8_t>()[0] != 0;
}

}  // namespace deepcore::cuda
