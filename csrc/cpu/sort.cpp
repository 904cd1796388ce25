// sort and topk: each line along `dim` is copied out, ordered by index with std algorithms, and
// written back through the output strides. Lines are independent, so threads split them.
#include "cpu/sort.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/parallel.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

template <class T>
bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  else return false;
}

// Strict orders with NaN above every number (and NaNs equal to each other).
template <class T>
struct Ascending {
  bool operator()(T x, T y) const { return is_nan(y) ? !is_nan(x) : (!is_nan(x) && x < y); }
};
template <class T>
struct Descending {
  bool operator()(T x, T y) const { return is_nan(x) ? !is_nan(y) : (!is_nan(y) && x > y); }
};

void check_axis(const NDArray& a, int64_t dim, const char* op) {
  check_device(a, Device::CPU, op);
  DC_CHECK(a.ndim() >= 1, op << ": expected a tensor with at least one dimension, got a 0-d tensor");
  DC_CHECK(dim >= 0 && dim < a.ndim(), op << ": dim " << dim << " is out of range for a tensor of shape "
                                          << shape_str(a.shape));
}

// Runs body(line, in, out_values, out_indices, order) for every line along `dim` of the
// contiguous input and outputs of shape out_shape; `order` is a per-thread scratch vector.
template <class T, class Body>
void for_lines(const NDArray& src, const NDArray& values, const NDArray& indices, int64_t dim, Body body) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= src.shape[d];
  for (int64_t d = dim + 1; d < src.ndim(); ++d) inner *= src.shape[d];
  const int64_t n = src.shape[dim], m = values.shape[dim];
  const T* ps = src.data<T>();
  T* pv = values.data<T>();
  int64_t* pi = indices.data<int64_t>();
  parallel_for(outer * inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    std::vector<T> line(static_cast<size_t>(n));
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t l = b; l < e; ++l) {
      const int64_t o = l / inner, c = l % inner;
      const T* s = ps + o * n * inner + c;
      for (int64_t j = 0; j < n; ++j) line[static_cast<size_t>(j)] = s[j * inner];
      std::iota(order.begin(), order.end(), int64_t(0));
      const int64_t count = body(line, order);
      T* v = pv + o * m * inner + c;
      int64_t* ix = pi + o * m * inner + c;
      for (int64_t j = 0; j < count; ++j) {
        const int64_t k = order[static_cast<size_t>(j)];
        v[j * inner] = line[static_cast<size_t>(k)];
        ix[j * inner] = k;
      }
    }
  });
}

}  // namespace

std::pair<NDArray, NDArray> sort(const NDArray& a, int64_t dim, bool descending) {
  check_axis(a, dim, "sort");
  NDArray src = contiguous(a);
  NDArray values = empty(a.shape, a.dtype), indices = empty(a.shape, DType::Int64);
  if (a.numel() == 0) return {values, indices};
  dispatch_dtype(a.dtype, [&]<class T>() {
    for_lines<T>(src, values, indices, dim, [&](const std::vector<T>& line, std::vector<int64_t>& order) {
      auto by = [&](auto cmp) {
        return [&line, cmp](int64_t x, int64_t y) { return cmp(line[static_cast<size_t>(x)], line[static_cast<size_t>(y)]); };
      };
      if (descending) std::stable_sort(order.begin(), order.end(), by(Descending<T>{}));
      else std::stable_sort(order.begin(), order.end(), by(Ascending<T>{}));
      return static_cast<int64_t>(line.size());
    });
  });
  return {values, indices};
}

std::pair<NDArray, NDArray> topk(const NDArray& a, int64_t k, int64_t dim, bool largest, bool sorted) {
  check_axis(a, dim, "topk");
  DC_CHECK(k >= 0 && k <= a.shape[dim], "topk: k (" << k << ") is out of range for dimension " << dim
                                                     << " of size " << a.shape[dim]);
  NDArray src = contiguous(a);
  Shape out_shape = a.shape;
  out_shape[dim] = k;
  NDArray values = empty(out_shape, a.dtype), indices = empty(out_shape, DType::Int64);
  if (values.numel() == 0) return {values, indices};
  dispatch_dtype(a.dtype, [&]<class T>() {
    for_lines<T>(src, values, indices, dim, [&](const std::vector<T>& line, std::vector<int64_t>& order) {
      // Ties go to the lower index (the order is made total by it), so results are reproducible.
      auto run = [&](auto cmp) {
        auto by = [&line, cmp](int64_t x, int64_t y) {
          const T vx = line[static_cast<size_t>(x)], vy = line[static_cast<size_t>(y)];
          return cmp(vx, vy) || (!cmp(vy, vx) && x < y);
        };
        if (sorted) {
          std::partial_sort(order.begin(), order.begin() + k, order.end(), by);
        } else {
          if (k < static_cast<int64_t>(order.size())) std::nth_element(order.begin(), order.begin() + k - 1, order.end(), by);
          std::sort(order.begin(), order.begin() + k);  // unsorted results come in index order
        }
      };
      if (largest) run(Descending<T>{});
      else run(Ascending<T>{});
      return k;
    });
  });
  return {values, indices};
}

}  // namespace deepcore::cpu
