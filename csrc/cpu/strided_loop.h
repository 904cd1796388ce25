// Iterate N strided operands over one shape: the loop every elementwise kernel
// shares. Dimensions are coalesced first, so contiguous data becomes one long
// inner run that the compiler can vectorize.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "common/ndarray.h"
#include "common/parallel.h"

namespace deepcore::cpu {

// The fewest elements worth giving a thread (parallel_for splits only n >= 2 grains).
// Measured on 2 cores (AMD EPYC, AVX-512, OpenMP fork/join ~3 us): a memory-bound
// loop (add, relu, backward maps) gains from 2 threads only above ~128K elements,
// exp/tanh/sigmoid (0.2-0.4 ns per element on one thread) above ~32K.
constexpr int64_t kElementwiseGrain = 65536;
constexpr int64_t kTranscendentalGrain = 16384;

template <int N>
class StridedLoop {
 public:
  // strides[k] has one entry per dimension of `shape` (0 where operand k broadcasts).
  StridedLoop(const Shape& shape, const std::array<Shape, N>& strides) {
    numel_ = numel_of(shape);
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool merge = !shape_.empty();
      for (int k = 0; k < N && merge; ++k) merge = strides_[k].back() == strides[k][d] * shape[d];
      if (merge) {
        shape_.back() *= shape[d];
        for (int k = 0; k < N; ++k) strides_[k].back() = strides[k][d];
      } else {
        shape_.push_back(shape[d]);
        for (int k = 0; k < N; ++k) strides_[k].push_back(strides[k][d]);
      }
    }
  }

  int64_t numel() const { return numel_; }

  // fn(count, offsets, inner_strides): process `count` elements of the innermost
  // dimension; operand k starts at element offsets[k] and steps inner_strides[k].
  template <class F>
  void run(int64_t grain, const F& fn) const {
    if (numel_ == 0) return;
    const int nd = static_cast<int>(shape_.size());
    std::array<int64_t, N> inner{};
    if (nd == 0) {
      std::array<int64_t, N> zero{};
      fn(int64_t(1), zero, inner);
      return;
    }
    for (int k = 0; k < N; ++k) inner[k] = strides_[k][nd - 1];
    parallel_for(numel_, grain, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> idx(nd);
      std::array<int64_t, N> off{};
      int64_t rem = begin;
      for (int d = nd - 1; d >= 0; --d) {
        idx[d] = rem % shape_[d];
        rem /= shape_[d];
        for (int k = 0; k < N; ++k) off[k] += idx[d] * strides_[k][d];
      }
      for (int64_t pos = begin; pos < end;) {
        int64_t count = std::min(shape_[nd - 1] - idx[nd - 1], end - pos);
        fn(count, off, inner);
        pos += count;
        idx[nd - 1] += count;
        for (int k = 0; k < N; ++k) off[k] += count * inner[k];
        for (int d = nd - 1; d > 0 && idx[d] == shape_[d]; --d) {
          idx[d] = 0;
          ++idx[d - 1];
          for (int k = 0; k < N; ++k) off[k] += strides_[k][d - 1] - shape_[d] * strides_[k][d];
        }
      }
    });
  }

 private:
  int64_t numel_ = 0;
  Shape shape_;
  std::array<Shape, N> strides_;
};

// Calls fn.template operator()<T>() with T the C++ type of `dtype`.
template <class F>
auto dispatch_dtype(DType dtype, F&& fn) {
  switch (dtype) {
    case DType::Float32: return fn.template operator()<float>();
    case DType::Float64: return fn.template operator()<double>();
    case DType::Int64: return fn.template operator()<int64_t>();
    case DType::Bool: return fn.template operator()<bool>();
  }
  throw ValueError("unknown dtype");
}

template <class F>
auto dispatch_float(DType dtype, const char* op, F&& fn) {
  switch (dtype) {
    case DType::Float32: return fn.template operator()<float>();
    case DType::Float64: return fn.template operator()<double>();
    default: break;
  }
  throw TypeError(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dtype));
}

}  // namespace deepcore::cpu
