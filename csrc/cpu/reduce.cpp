// Reductions: sum, mean, max, min over axes; argmax/argmin; a non-finite scan.
#include "cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

namespace {

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "mean", "max", "min"};
  return names[static_cast<int>(op)];
}

int64_t normalize_axis(int64_t axis, int ndim, const char* op) {
  int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts axis 0 and -1, as in PyTorch
  DC_CHECK(axis >= -n && axis < n, op << ": axis " << axis << " is out of range for a tensor with " << ndim
                                      << " dimension(s)");
  return axis < 0 ? axis + n : axis;
}

// One group of dimensions (kept or reduced) with its elements' offsets listed
// once, so the inner loops do no index arithmetic.
struct DimGroup {
  Shape shape, strides;
  int64_t count() const { return numel_of(shape); }
  std::vector<int64_t> offsets() const {
    std::vector<int64_t> off(count());
    if (off.empty()) return off;
    std::vector<int64_t> idx(shape.size(), 0);
    int64_t cur = 0;
    for (int64_t i = 0; i < (int64_t)off.size(); ++i) {
      off[i] = cur;
      for (int d = (int)shape.size() - 1; d >= 0; --d) {
        if (++idx[d] < shape[d]) { cur += strides[d]; break; }
        cur -= (shape[d] - 1) * strides[d];
        idx[d] = 0;
      }
    }
    return off;
  }
  // Merge neighbours that are contiguous with each other; drop size-1 dims.
  void coalesce() {
    Shape s, t;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      if (!s.empty() && t.back() == strides[d] * shape[d]) {
        s.back() *= shape[d];
        t.back() = strides[d];
      } else {
        s.push_back(shape[d]);
        t.push_back(strides[d]);
      }
    }
    shape = s;
    strides = t;
  }
};

template <class T, class Acc>
struct Reducer {
  ReduceOp op;
  Acc init() const {
    if (op == ReduceOp::Max) return std::numeric_limits<Acc>::has_infinity ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::lowest();
    if (op == ReduceOp::Min) return std::numeric_limits<Acc>::has_infinity ? std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::max();
    return Acc(0);
  }
  Acc step(Acc acc, T x) const {
    Acc v = static_cast<Acc>(x);
    if (op == ReduceOp::Sum || op == ReduceOp::Mean) return acc + v;
    if (acc != acc) return acc;  // NaN wins, as in NumPy
    if (v != v) return v;
    return (op == ReduceOp::Max ? v > acc : v < acc) ? v : acc;
  }
};

// Elements per block of one long contiguous sum (a thread's smallest share).
constexpr int64_t kSumBlock = 65536;

template <class T, class Acc, class R>
void reduce_typed(ReduceOp op, const NDArray& a, const DimGroup& kept, const DimGroup& red, const NDArray& out) {
  const Reducer<T, Acc> rd{op};
  const T* pa = a.data<T>();
  R* po = out.data<R>();
  const int64_t K = kept.count(), Rn = red.count();
  const double scale = op == ReduceOp::Mean ? 1.0 / static_cast<double>(Rn) : 1.0;
  auto finish = [&](Acc acc) { return static_cast<R>(op == ReduceOp::Mean ? acc * scale : acc); };
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(Rn, 1));

  if constexpr (std::is_floating_point_v<T>) {
    if ((op == ReduceOp::Sum || op == ReduceOp::Mean) && red.shape.size() == 1 && red.strides[0] == 1) {
      // Contiguous float sums: the per-ISA vector loop (double partial sums).
      const auto vsum = vec::kernels<T>().sum;
      std::vector<int64_t> koff = kept.offsets();
      if (K == 1 && Rn >= 2 * kSumBlock) {
        // One long sum split in fixed blocks (not per-thread chunks): the same bits on any thread count.
        const int64_t blocks = (Rn + kSumBlock - 1) / kSumBlock;
        std::vector<double> part(blocks);
        parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            part[i] = vsum(pa + koff[0] + i * kSumBlock, std::min(kSumBlock, Rn - i * kSumBlock));
        });
        double s = 0;
        for (double p : part) s += p;
        po[0] = finish(static_cast<Acc>(s));
        return;
      }
      parallel_for(K, grain, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) po[k] = finish(static_cast<Acc>(vsum(pa + koff[k], Rn)));
      });
      return;
    }
  }
  if (red.shape.empty() || (red.shape.size() == 1 && red.strides[0] == 1)) {
    // Reduced elements are contiguous: one tight loop per output.
    std::vector<int64_t> koff = kept.offsets();
    parallel_for(K, grain, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const T* x = pa + koff[k];
        Acc acc = rd.init();
        for (int64_t r = 0; r < Rn; ++r) acc = rd.step(acc, x[r]);
        po[k] = finish(acc);
      }
    });
  } else if (kept.shape.size() == 1 && kept.strides[0] == 1) {
    // Kept elements are contiguous (e.g. a bias gradient: sum over the batch):
    // accumulate whole rows so every load is sequential.
    std::vector<int64_t> roff = red.offsets();
    parallel_for(K, std::max<int64_t>(16, kElementwiseGrain / std::max<int64_t>(Rn, 1)), [&](int64_t b, int64_t e) {
      std::vector<Acc> acc(e - b, rd.init());
      for (int64_t r = 0; r < Rn; ++r) {
        const T* x = pa + roff[r];
        for (int64_t k = b; k < e; ++k) acc[k - b] = rd.step(acc[k - b], x[k]);
      }
      for (int64_t k = b; k < e; ++k) po[k] = finish(acc[k - b]);
    });
  } else {
    std::vector<int64_t> koff = kept.offsets(), roff = red.offsets();
    parallel_for(K, grain, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const T* x = pa + koff[k];
        Acc acc = rd.init();
        for (int64_t r = 0; r < Rn; ++r) acc = rd.step(acc, x[roff[r]]);
        po[k] = finish(acc);
      }
    });
  }
}

}  // namespace

NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int64_t>& axes_in, bool keepdim) {
  const char* name = reduce_name(op);
  check_device(a, Device::CPU, name);
  const int nd = a.ndim();
  std::vector<bool> is_red(nd, axes_in.empty());
  for (int64_t ax : axes_in) {
    int64_t d = normalize_axis(ax, nd, name);
    if (nd == 0) continue;
    DC_CHECK(!is_red[d], name << ": axis " << ax << " appears twice");
    is_red[d] = true;
  }
  DimGroup kept, red;
  Shape out_shape;
  for (int d = 0; d < nd; ++d) {
    if (is_red[d]) {
      red.shape.push_back(a.shape[d]);
      red.strides.push_back(a.strides[d]);
      if (keepdim) out_shape.push_back(1);
    } else {
      kept.shape.push_back(a.shape[d]);
      kept.strides.push_back(a.strides[d]);
      out_shape.push_back(a.shape[d]);
    }
  }
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && kept.count() > 0)
    DC_CHECK(red.count() > 0, name << ": cannot reduce over an empty dimension (input shape "
                                   << shape_str(a.shape) << "); there is no identity for " << name);
  DC_CHECK_TYPE(a.dtype != DType::Bool || op == ReduceOp::Sum, name << ": not supported for bool tensors");
  DC_CHECK_TYPE(op != ReduceOp::Mean || a.dtype == DType::Float32 || a.dtype == DType::Float64,
                "mean: expected a float32 or float64 tensor, got " << dtype_name(a.dtype)
                                                                   << " (convert with .float() first)");
  kept.coalesce();
  red.coalesce();
  DType out_dtype = (op == ReduceOp::Sum && (a.dtype == DType::Bool || a.dtype == DType::Int64)) ? DType::Int64 : a.dtype;
  NDArray out = empty(out_shape, out_dtype);
  switch (a.dtype) {
    case DType::Float32:
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) reduce_typed<float, double, float>(op, a, kept, red, out);
      else reduce_typed<float, float, float>(op, a, kept, red, out);
      break;
    case DType::Float64: reduce_typed<double, double, double>(op, a, kept, red, out); break;
    case DType::Int64: reduce_typed<int64_t, int64_t, int64_t>(op, a, kept, red, out); break;
    case DType::Bool: reduce_typed<bool, int64_t, int64_t>(op, a, kept, red, out); break;
  }
  return out;
}

NDArray arg_reduce(bool is_max, const NDArray& a, int64_t axis, bool keepdim) {
  const char* name = is_max ? "argmax" : "argmin";
  check_device(a, Device::CPU, name);
  DC_CHECK_TYPE(a.dtype != DType::Bool, name << ": not supported for bool tensors");
  const int nd = a.ndim();
  int64_t ax = normalize_axis(axis, nd, name);
  int64_t len = nd == 0 ? 1 : a.shape[ax];
  int64_t stride = nd == 0 ? 1 : a.strides[ax];
  DimGroup kept;
  Shape out_shape;
  for (int d = 0; d < nd; ++d) {
    if (d == ax) {
      if (keepdim) out_shape.push_back(1);
      continue;
    }
    kept.shape.push_back(a.shape[d]);
    kept.strides.push_back(a.strides[d]);
    out_shape.push_back(a.shape[d]);
  }
  if (kept.count() > 0)
    DC_CHECK(len > 0, name << ": cannot take " << name << " over an empty dimension (input shape "
                           << shape_str(a.shape) << ")");
  kept.coalesce();
  NDArray out = empty(out_shape, DType::Int64);
  int64_t* po = out.data<int64_t>();
  std::vector<int64_t> koff = kept.offsets();
  dispatch_dtype(a.dtype, [&]<class T>() {
    const T* pa = a.data<T>();
    parallel_for((int64_t)koff.size(), std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(len, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t k = b; k < e; ++k) {
                     const T* x = pa + koff[k];
                     int64_t best = 0;
                     T bv = x[0];
                     for (int64_t r = 1; r < len && bv == bv; ++r) {
                       T v = x[r * stride];
                       if (v != v || (is_max ? v > bv : v < bv)) {
                         bv = v;
                         best = r;
                       }
                     }
                     po[k] = best;
                   }
                 });
  });
  return out;
}

bool has_nonfinite(const NDArray& a) {
  check_device(a, Device::CPU, "has_nonfinite");
  if (a.dtype != DType::Float32 && a.dtype != DType::Float64) return false;
  NDArray c = contiguous(a);
  int64_t n = c.numel();
  return dispatch_float(c.dtype, "has_nonfinite", [&]<class T>() {
    const T* p = c.data<T>();
    int found = 0;
    parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      bool bad = false;
      // x - x is 0 for finite x and NaN for NaN or inf: one branch-free test.
      for (int64_t i = b; i < e; ++i) bad |= (p[i] - p[i]) != T(0);
      if (bad) {
#pragma omp atomic write
        found = 1;
      }
    });
    return found != 0;
  });
}

}  // namespace deepcore::cpu
