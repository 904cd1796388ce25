#include "cpu/index.h"

#include <cstring>
#include <type_traits>
#include <vector>

#include "common/overlap.h"
#include "common/parallel.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"

namespace deepcore::cpu {

namespace {

// Rows under ~32 KiB of copying per thread are not worth waking threads for.
constexpr int64_t kGrainBytes = 32 * 1024;

int64_t grain_rows(int64_t row_bytes) { return std::max<int64_t>(1, kGrainBytes / std::max<int64_t>(row_bytes, 1)); }

// The indices as a contiguous vector, each checked against [0, size): a bad
// index must raise here, before any parallel region touches memory.
std::vector<int64_t> checked_indices(const NDArray& indices, int64_t size, const char* op, int64_t dim) {
  check_device(indices, Device::CPU, op);
  DC_CHECK_TYPE(indices.dtype == DType::Int64,
                op << ": indices must be int64, got " << dtype_name(indices.dtype) << shape_str(indices.shape));
  DC_CHECK(indices.ndim() <= 1, op << ": indices must be a 0-d or 1-d tensor, got shape " << shape_str(indices.shape));
  const int64_t n = indices.numel();
  const int64_t stride = indices.ndim() == 1 ? indices.strides[0] : 0;
  const int64_t* p = indices.data<int64_t>();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    int64_t v = p[j * stride];
    DC_CHECK(v >= 0 && v < size, op << ": index " << v << " (at position " << j << " of the indices) is out of "
                                    << "range for dimension " << dim << " with size " << size
                                    << " (expected 0 <= index < " << size << ")");
    out[static_cast<size_t>(j)] = v;
  }
  return out;
}

void check_dim(const NDArray& a, int64_t dim, const char* op) {
  DC_CHECK(a.ndim() >= 1, op << ": expected a tensor with at least one dimension, got a 0-d tensor");
  DC_CHECK(dim >= 0 && dim < a.ndim(),
           op << ": dim " << dim << " is out of range for a tensor of shape " << shape_str(a.shape));
}

// (outer, inner) element counts around `dim` of a shape.
std::pair<int64_t, int64_t> split_at(const Shape& shape, int64_t dim) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
  return {outer, inner};
}

template <class T>
void add_rows(T* dst, const T* src, int64_t outer, int64_t dst_size, int64_t inner, const std::vector<int64_t>& idx,
              int64_t o_begin, int64_t o_end, int64_t c_begin, int64_t c_end) {
  const int64_t n = static_cast<int64_t>(idx.size());
  for (int64_t o = o_begin; o < o_end; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      T* d = dst + (o * dst_size + idx[static_cast<size_t>(j)]) * inner;
      const T* s = src + (o * n + j) * inner;
      for (int64_t c = c_begin; c < c_end; ++c) d[c] += s[c];
    }
  }
  (void)outer;
}

template <class T>
void scatter_add(T* dst, const T* src, int64_t outer, int64_t dst_size, int64_t inner,
                 const std::vector<int64_t>& idx) {
  // Repeated indices write the same rows, so threads split what no two rows
  // share: the outer blocks when there are enough, else the columns.
  if (outer >= get_num_threads()) {
    parallel_for(outer, 1, [&](int64_t b, int64_t e) { add_rows(dst, src, outer, dst_size, inner, idx, b, e, 0, inner); });
  } else {
    const int64_t grain = std::max<int64_t>(64, kGrainBytes / static_cast<int64_t>(sizeof(T) * std::max<size_t>(idx.size(), 1)));
    parallel_for(inner, grain, [&](int64_t b, int64_t e) { add_rows(dst, src, outer, dst_size, inner, idx, 0, outer, b, e); });
  }
}

template <class T>
void convert_rows(T* out, const uint8_t* src, int64_t row, const std::vector<int64_t>& idx, double scale,
                  double shift, int64_t b, int64_t e) {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const Acc sc = static_cast<Acc>(scale), sh = static_cast<Acc>(shift);
  for (int64_t j = b; j < e; ++j) {
    const uint8_t* s = src + idx[static_cast<size_t>(j)] * row;
    T* d = out + j * row;
    if constexpr (std::is_same_v<T, int64_t>) {
      for (int64_t c = 0; c < row; ++c) d[c] = static_cast<int64_t>(s[c]);
    } else {
      for (int64_t c = 0; c < row; ++c) d[c] = static_cast<Acc>(s[c]) * sc + sh;
    }
  }
}

// gather / scatter walk the index one line at a time: a line is every index element with the
// same coordinates outside `dim`. Lines touch disjoint parts of the scatter destination, so
// threads split lines and repeated indices stay inside one thread, in order.
struct Lines {
  int64_t count = 1, length = 1;  // lines, and elements per line (index.shape[dim])
  Shape outer_shape;               // index's shape without `dim`
  std::vector<Shape> outer_strides;  // per operand, its strides without `dim`
  std::vector<int64_t> dim_strides;  // per operand, its stride along `dim`

  Lines(const Shape& index_shape, int64_t dim, const std::vector<const Shape*>& strides) {
    length = index_shape[dim];
    outer_strides.resize(strides.size());
    for (size_t d = 0; d < index_shape.size(); ++d) {
      if (static_cast<int64_t>(d) == dim) continue;
      outer_shape.push_back(index_shape[d]);
      count *= index_shape[d];
      for (size_t k = 0; k < strides.size(); ++k) outer_strides[k].push_back((*strides[k])[d]);
    }
    for (const Shape* st : strides) dim_strides.push_back((*st)[dim]);
  }

  // The element offset of line `l` in operand k.
  int64_t base(int64_t l, size_t k) const {
    int64_t off = 0;
    for (size_t d = outer_shape.size(); d-- > 0;) {
      off += (l % outer_shape[d]) * outer_strides[k][d];
      l /= outer_shape[d];
    }
    return off;
  }
};

// index: int64, the same number of dims as `a`, each index.shape[d] <= limit[d] (d != dim unless
// `all_dims`), every value in [0, size) along dim. Checked before any thread starts.
void check_index(const char* op, const NDArray& index, const NDArray& a, int64_t dim, const char* what) {
  check_device(index, Device::CPU, op);
  DC_CHECK_TYPE(index.dtype == DType::Int64,
                op << ": index must be an int64 tensor, got " << dtype_name(index.dtype) << shape_str(index.shape));
  DC_CHECK(index.ndim() == a.ndim(), op << ": index " << shape_str(index.shape) << " and " << what << " "
                                        << shape_str(a.shape) << " must have the same number of dimensions");
}

void check_sizes(const char* op, const NDArray& index, const NDArray& a, int64_t skip_dim, const char* what) {
  for (int d = 0; d < index.ndim(); ++d)
    DC_CHECK(d == skip_dim || index.shape[d] <= a.shape[d],
             op << ": index " << shape_str(index.shape) << " is larger than " << what << " " << shape_str(a.shape)
                << " in dimension " << d);
}

void check_index_values(const char* op, const NDArray& index, int64_t dim, int64_t size) {
  const int64_t n = index.numel();
  if (n == 0) return;
  NDArray idx = contiguous(index);
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    DC_CHECK(p[i] >= 0 && p[i] < size, op << ": index " << p[i] << " is out of bounds for dimension " << dim
                                          << " with size " << size);
}

}  // namespace

NDArray gather(const NDArray& a, int64_t dim, const NDArray& index) {
  check_device(a, Device::CPU, "gather");
  check_dim(a, dim, "gather");
  check_index("gather", index, a, dim, "input");
  check_sizes("gather", index, a, dim, "input");
  check_index_values("gather", index, dim, a.shape[dim]);
  NDArray out = empty(index.shape, a.dtype);
  if (out.numel() == 0) return out;
  Lines lines(index.shape, dim, {&out.strides, &a.strides, &index.strides});
  const int64_t* pi = index.data<int64_t>();
  dispatch_dtype(a.dtype, [&]<class T>() {
    T* po = out.data<T>();
    const T* pa = a.data<T>();
    const int64_t so = lines.dim_strides[0], sa = lines.dim_strides[1], si = lines.dim_strides[2];
    parallel_for(lines.count, std::max<int64_t>(1, 16384 / lines.length), [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        T* o = po + lines.base(l, 0);
        const T* x = pa + lines.base(l, 1);
        const int64_t* ix = pi + lines.base(l, 2);
        for (int64_t j = 0; j < lines.length; ++j) o[j * so] = x[ix[j * si] * sa];
      }
    });
  });
  return out;
}

// As PyTorch: the written array may not repeat a location, nor share any memory with what is read
// (not even the same elements: an index repeated along dim would read a row already written).
static void check_writes_alone(const char* op, const NDArray& dst, const NDArray& index, const NDArray& src) {
  check_no_internal_overlap(dst, op);
  if (overlap_of(dst, src) != Overlap::None || overlap_of(dst, index) != Overlap::None)
    throw partial_overlap_error(op);
}

void scatter_(const NDArray& dst, int64_t dim, const NDArray& index, const NDArray& src, bool accumulate) {
  const char* op = accumulate ? "scatter_add_" : "scatter_";
  check_device(dst, Device::CPU, op);
  check_device(src, Device::CPU, op);
  check_dim(dst, dim, op);
  check_index(op, index, dst, dim, "self");
  DC_CHECK(src.ndim() == dst.ndim(), op << ": src " << shape_str(src.shape) << " and self " << shape_str(dst.shape)
                                        << " must have the same number of dimensions");
  DC_CHECK_TYPE(src.dtype == dst.dtype, op << ": src has dtype " << dtype_name(src.dtype) << " but self has "
                                           << dtype_name(dst.dtype));
  DC_CHECK_TYPE(!(accumulate && dst.dtype == DType::Bool), op << ": bool tensors cannot be added to");
  check_sizes(op, index, dst, dim, "self");
  check_sizes(op, index, src, -1, "src");
  check_index_values(op, index, dim, dst.shape[dim]);
  if (index.numel() == 0) return;
  check_writes_alone(op, dst, index, src);
  Lines lines(index.shape, dim, {&dst.strides, &src.strides, &index.strides});
  const int64_t* pi = index.data<int64_t>();
  dispatch_dtype(dst.dtype, [&]<class T>() {
    T* pd = dst.data<T>();
    const T* ps = src.data<T>();
    const int64_t sd = lines.dim_strides[0], ss = lines.dim_strides[1], si = lines.dim_strides[2];
    parallel_for(lines.count, std::max<int64_t>(1, 16384 / lines.length), [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        T* d = pd + lines.base(l, 0);
        const T* x = ps + lines.base(l, 1);
        const int64_t* ix = pi + lines.base(l, 2);
        if constexpr (std::is_same_v<T, bool>) {
          for (int64_t j = 0; j < lines.length; ++j) d[ix[j * si] * sd] = x[j * ss];
        } else if (accumulate) {
          for (int64_t j = 0; j < lines.length; ++j) d[ix[j * si] * sd] += x[j * ss];
        } else {
          for (int64_t j = 0; j < lines.length; ++j) d[ix[j * si] * sd] = x[j * ss];
        }
      }
    });
  });
  dst.bump_version();
}

NDArray index_select(const NDArray& a, int64_t dim, const NDArray& indices) {
  check_device(a, Device::CPU, "index_select");
  check_dim(a, dim, "index_select");
  std::vector<int64_t> idx = checked_indices(indices, a.shape[dim], "index_select", dim);
  const int64_t n = static_cast<int64_t>(idx.size());
  Shape out_shape = a.shape;
  out_shape[dim] = n;
  NDArray out = empty(out_shape, a.dtype);
  if (out.numel() == 0) return out;
  NDArray src = contiguous(a);
  auto [outer, inner] = split_at(a.shape, dim);
  const int64_t size = a.shape[dim];
  const int64_t row_bytes = inner * static_cast<int64_t>(a.item_size());
  const char* s = static_cast<const char*>(src.raw());
  char* d = static_cast<char*>(out.raw());
  parallel_for(outer * n, grain_rows(row_bytes), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t o = r / n, j = r % n;
      std::memcpy(d + r * row_bytes, s + (o * size + idx[static_cast<size_t>(j)]) * row_bytes,
                  static_cast<size_t>(row_bytes));
    }
  });
  return out;
}

void index_add_(const NDArray& dst, int64_t dim, const NDArray& indices, const NDArray& src) {
  check_device(dst, Device::CPU, "index_add_");
  check_device(src, Device::CPU, "index_add_");
  check_dim(dst, dim, "index_add_");
  DC_CHECK_TYPE(dst.dtype == src.dtype, "index_add_: source dtype " << dtype_name(src.dtype)
                                                                     << " differs from the destination's "
                                                                     << dtype_name(dst.dtype));
  DC_CHECK_TYPE(dst.dtype != DType::Bool, "index_add_: bool tensors cannot be added to");
  std::vector<int64_t> idx = checked_indices(indices, dst.shape[dim], "index_add_", dim);
  Shape expected = dst.shape;
  expected[dim] = static_cast<int64_t>(idx.size());
  DC_CHECK(src.shape == expected, "index_add_: source has shape " << shape_str(src.shape) << " but a destination of "
                                                                  << "shape " << shape_str(dst.shape) << " with "
                                                                  << idx.size() << " indices along dim " << dim
                                                                  << " needs " << shape_str(expected));
  if (src.numel() == 0) return;
  check_writes_alone("index_add_", dst, indices, src);
  NDArray target = dst.is_contiguous() ? dst : contiguous(dst);
  NDArray source = contiguous(src);
  auto [outer, inner] = split_at(dst.shape, dim);
  const int64_t size = dst.shape[dim];
  switch (dst.dtype) {
    case DType::Float32: scatter_add(target.data<float>(), source.data<float>(), outer, size, inner, idx); break;
    case DType::Float64: scatter_add(target.data<double>(), source.data<double>(), outer, size, inner, idx); break;
    case DType::Int64: scatter_add(target.data<int64_t>(), source.data<int64_t>(), outer, size, inner, idx); break;
    case DType::Bool: break;
  }
  if (!dst.is_contiguous()) copy_(dst, target);
  dst.bump_version();
}

NDArray index_select_u8(const uint8_t* src, const Shape& src_shape, const NDArray& indices, DType out_dtype,
                        double scale, double shift) {
  DC_CHECK(!src_shape.empty(), "index_select_u8: expected an array with at least one dimension, got a 0-d array");
  DC_CHECK_TYPE(out_dtype != DType::Bool, "index_select_u8: the output dtype must be float32, float64 or int64");
  std::vector<int64_t> idx = checked_indices(indices, src_shape[0], "index_select_u8", 0);
  Shape out_shape = src_shape;
  out_shape[0] = static_cast<int64_t>(idx.size());
  NDArray out = empty(out_shape, out_dtype);
  const int64_t row = numel_of(Shape(src_shape.begin() + 1, src_shape.end()));
  const int64_t n = static_cast<int64_t>(idx.size());
  if (out.numel() == 0) return out;
  const int64_t grain = grain_rows(row * static_cast<int64_t>(itemsize(out_dtype)));
  switch (out_dtype) {
    case DType::Float32:
      parallel_for(n, grain, [&](int64_t b, int64_t e) { convert_rows(out.data<float>(), src, row, idx, scale, shift, b, e); });
      break;
    case DType::Float64:
      parallel_for(n, grain, [&](int64_t b, int64_t e) { convert_rows(out.data<double>(), src, row, idx, scale, shift, b, e); });
      break;
    case DType::Int64:
      parallel_for(n, grain, [&](int64_t b, int64_t e) { convert_rows(out.data<int64_t>(), src, row, idx, scale, shift, b, e); });
      break;
    case DType::Bool: break;
  }
  return out;
}

}  // namespace deepcore::cpu
