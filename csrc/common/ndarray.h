// NDArray: a typed, strided view on a reference-counted buffer (CPU or CUDA).
// This is the one data structure the kernels see; autograd lives in Python.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace deepcore {

enum class DType : int { Float32 = 0, Float64 = 1, Int64 = 2, Bool = 3 };
enum class Device : int { CPU = 0, CUDA = 1 };

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 1;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

// Errors the bindings turn into Python exceptions of the same name.
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// DC_CHECK(cond, "op: message " << value): throws ValueError with a streamed message.
#define DC_CHECK(cond, msg)                                  \
  do {                                                       \
    if (!(cond)) {                                           \
      std::ostringstream dc_check_stream_;                   \
      dc_check_stream_ << msg;                               \
      throw ::deepcore::ValueError(dc_check_stream_.str());  \
    }                                                        \
  } while (0)

#define DC_CHECK_TYPE(cond, msg)                             \
  do {                                                       \
    if (!(cond)) {                                           \
      std::ostringstream dc_check_stream_;                   \
      dc_check_stream_ << msg;                               \
      throw ::deepcore::TypeError(dc_check_stream_.str());   \
    }                                                        \
  } while (0)

using Shape = std::vector<int64_t>;

inline std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

// Storage owns the bytes; `deleter` knows how (free, cudaFree, or dropping a
// reference to a NumPy array). `version` counts in-place writes so autograd
// can refuse a backward through a tensor that was modified after being saved.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  int device_index = 0;
  std::function<void(void*)> deleter;
  uint64_t version = 0;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (deleter) deleter(data);
  }
};

inline int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    DC_CHECK(d >= 0, "negative dimension " << d << " in shape " << shape_str(shape));
    // PyTorch's type for a size no storage can have: RuntimeError ("Storage size calculation overflowed").
    if (d != 0 && n > INT64_MAX / d)
      throw std::runtime_error("shape " + shape_str(shape) + " has too many elements (more than 2**63)");
    n *= d;
  }
  return n;
}

inline Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

struct NDArray {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;       // in elements, never negative
  DType dtype = DType::Float32;

  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t numel() const { return numel_of(shape); }
  Device device() const { return storage->device; }
  size_t item_size() const { return itemsize(dtype); }

  bool is_contiguous() const {
    int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      if (shape[i] == 1) continue;
      if (strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }

  void* raw() const { return static_cast<char*>(storage->data) + offset * static_cast<int64_t>(item_size()); }
  template <class T>
  T* data() const { return static_cast<T*>(raw()); }

  void bump_version() const { ++storage->version; }
};

inline std::string describe(const NDArray& a) {
  return std::string(dtype_name(a.dtype)) + shape_str(a.shape) + " on " + device_name(a.device());
}

// Throws unless `a` lives on `dev`; `op` names the caller in the message.
inline void check_device(const NDArray& a, Device dev, const char* op) {
  DC_CHECK(a.device() == dev, op << ": expected a tensor on " << device_name(dev) << " but got one on "
                                 << device_name(a.device()));
}

// Elements reachable by a view must lie inside its storage; views built from
// Python go through this, so a bad view raises instead of reading past the end.
inline void check_view_bounds(const Storage& st, DType dtype, int64_t offset, const Shape& shape,
                              const Shape& strides) {
  DC_CHECK(shape.size() == strides.size(), "view: shape " << shape_str(shape) << " and strides "
                                                          << shape_str(strides) << " differ in length");
  DC_CHECK(offset >= 0, "view: negative offset " << offset);
  for (int64_t s : strides) DC_CHECK(s >= 0, "view: negative stride " << s);
  int64_t n = numel_of(shape);
  if (n == 0) return;
  int64_t capacity = static_cast<int64_t>(st.nbytes / itemsize(dtype));
  // The last element's index, with every product and sum checked: a wrapped int64 would pass the
  // bounds test and let a kernel write anywhere.
  int64_t last = offset;
  bool wrapped = false;
  for (size_t i = 0; i < shape.size() && !wrapped; ++i) {
    int64_t step = 0;
    wrapped = __builtin_mul_overflow(shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last);
  }
  DC_CHECK(!wrapped && last < capacity,
           "view: shape " << shape_str(shape) << " with strides " << shape_str(strides) << " and offset " << offset
                          << " reaches element " << (wrapped ? std::string("beyond 2**63") : std::to_string(last))
                          << " of a buffer holding " << capacity);
}

// Broadcast two shapes with NumPy rules; `op` names the caller in the message.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    DC_CHECK(da == db || da == 1 || db == 1, op << ": shapes " << shape_str(a) << " and " << shape_str(b)
                                                << " cannot be broadcast together (dimension " << i << ": "
                                                << da << " vs " << db << ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides that make `a` read as if it had shape `target` (0 where broadcast).
inline Shape broadcast_strides(const NDArray& a, const Shape& target) {
  Shape st(target.size(), 0);
  size_t lead = target.size() - a.shape.size();
  for (size_t i = 0; i < a.shape.size(); ++i) st[lead + i] = a.shape[i] == 1 ? 0 : a.strides[i];
  return st;
}

}  // namespace deepcore
