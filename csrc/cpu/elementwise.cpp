// Elementwise kernels: unary math, binary arithmetic and comparisons, where.
#include "cpu/elementwise.h"

#include <algorithm>
#include <cmath>

#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

namespace {

template <class T>
T apply_unary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::Relu: return x < T(0) ? T(0) : x;  // NaN propagates
    case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));
    case UnaryOp::Square: return x * x;
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Tanh: return std::tanh(x);
      // Written so that neither branch overflows: exp of a non-positive number only.
      case UnaryOp::Sigmoid: return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
      case UnaryOp::Reciprocal: return T(1) / x;
      default: break;
    }
  }
  return x;
}

bool unary_needs_float(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Relu: case UnaryOp::Sign: case UnaryOp::Square:
      return false;
    default:
      return true;
  }
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sign", "square", "reciprocal"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"};
  return names[static_cast<int>(op)];
}

// One instantiation per (op, type): the switch is resolved at compile time so the inner loops vectorize.
template <BinaryOp OP, class T>
inline auto apply_binary(T a, T b) {
  if constexpr (OP == BinaryOp::Add) return T(a + b);
  else if constexpr (OP == BinaryOp::Sub) return T(a - b);
  else if constexpr (OP == BinaryOp::Mul) return T(a * b);
  else if constexpr (OP == BinaryOp::Div) return T(a / b);
  else if constexpr (OP == BinaryOp::Pow) return T(std::pow(a, b));
  // NaN propagates, as in NumPy's maximum/minimum.
  else if constexpr (OP == BinaryOp::Maximum) return (a != a || a > b) ? a : b;
  else if constexpr (OP == BinaryOp::Minimum) return (a != a || a < b) ? a : b;
  else if constexpr (OP == BinaryOp::Eq) return a == b;
  else if constexpr (OP == BinaryOp::Ne) return a != b;
  else if constexpr (OP == BinaryOp::Lt) return a < b;
  else if constexpr (OP == BinaryOp::Le) return a <= b;
  else if constexpr (OP == BinaryOp::Gt) return a > b;
  else return a >= b;
}

// The vec:: index of an arithmetic op, -1 for the others.
constexpr int vec_arith(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return vec::kAdd;
    case BinaryOp::Sub: return vec::kSub;
    case BinaryOp::Mul: return vec::kMul;
    case BinaryOp::Div: return vec::kDiv;
    default: return -1;
  }
}

template <BinaryOp OP, class T>
void binary_loop(const StridedLoop<3>& loop, const NDArray& out, const NDArray& a, const NDArray& b) {
  using R = decltype(apply_binary<OP, T>(T(), T()));
  R* po = out.data<R>();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  // The baseline build is SSE2: float arithmetic on contiguous runs goes to the per-ISA loops.
  void (*vec_aa)(const T*, const T*, T*, int64_t) = nullptr;
  void (*vec_as)(const T*, T, T*, int64_t) = nullptr;
  if constexpr (std::is_floating_point_v<T> && vec_arith(OP) >= 0) {
    vec_aa = vec::kernels<T>().arith[vec_arith(OP)];
    vec_as = vec::kernels<T>().arith_scalar[vec_arith(OP)];
  }
  constexpr int64_t grain = OP == BinaryOp::Pow ? kTranscendentalGrain : kElementwiseGrain;
  loop.run(grain, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
    R* o = po + off[0];
    const T* x = pa + off[1];
    const T* y = pb + off[2];
    if constexpr (std::is_same_v<R, T>) {
      if (vec_aa && st[0] == 1 && st[1] == 1 && st[2] == 1) return vec_aa(x, y, o, n);
      if (vec_as && st[0] == 1 && st[1] == 1 && st[2] == 0) return vec_as(x, *y, o, n);
    }
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = apply_binary<OP, T>(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const T c = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = apply_binary<OP, T>(x[i], c);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const T c = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = apply_binary<OP, T>(c, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = apply_binary<OP, T>(x[i * st[1]], y[i * st[2]]);
    }
  });
}

template <class T>
void binary_dispatch(BinaryOp op, const StridedLoop<3>& loop, const NDArray& out, const NDArray& a,
                     const NDArray& b) {
  switch (op) {
#define DC_BINARY_CASE(NAME) \
  case BinaryOp::NAME: return binary_loop<BinaryOp::NAME, T>(loop, out, a, b);
    DC_BINARY_CASE(Add) DC_BINARY_CASE(Sub) DC_BINARY_CASE(Mul) DC_BINARY_CASE(Div) DC_BINARY_CASE(Pow)
    DC_BINARY_CASE(Maximum) DC_BINARY_CASE(Minimum) DC_BINARY_CASE(Eq) DC_BINARY_CASE(Ne) DC_BINARY_CASE(Lt)
    DC_BINARY_CASE(Le) DC_BINARY_CASE(Gt) DC_BINARY_CASE(Ge)
#undef DC_BINARY_CASE
  }
}

// Checks `out` (if given) against the result's shape and dtype, else allocates it.
NDArray prepare_out(const char* op, const Shape& shape, DType dtype, const std::optional<NDArray>& out) {
  if (!out) return empty(shape, dtype);
  check_device(*out, Device::CPU, op);
  DC_CHECK(out->shape == shape, op << ": output has shape " << shape_str(out->shape) << " but the result has shape "
                                   << shape_str(shape));
  DC_CHECK_TYPE(out->dtype == dtype, op << ": output has dtype " << dtype_name(out->dtype) << " but the result is "
                                        << dtype_name(dtype));
  return *out;
}

void check_binary_types(BinaryOp op, DType dtype) {
  const char* name = binary_name(op);
  if (dtype == DType::Bool)
    DC_CHECK_TYPE(op == BinaryOp::Eq || op == BinaryOp::Ne,
                  name << ": not supported for bool tensors (convert with .float() or .long() first)");
  if (dtype == DType::Int64)
    DC_CHECK_TYPE(op != BinaryOp::Div && op != BinaryOp::Pow,
                  name << ": not supported for int64 tensors (the Python layer converts to float first)");
}


// The vec:: kernel for `op` on T, or nullptr where the generic loop serves.
template <class T>
void (*vec_unary(UnaryOp op))(const T*, T*, int64_t) {
  if constexpr (std::is_floating_point_v<T>) {
    const vec::Kernels<T>& k = vec::kernels<T>();
    switch (op) {
      case UnaryOp::Exp: return k.exp;
      case UnaryOp::Log: return k.log;
      case UnaryOp::Tanh: return k.tanh;
      case UnaryOp::Sigmoid: return k.sigmoid;
      case UnaryOp::Relu: return k.relu;
      default: break;
    }
  }
  return nullptr;
}

// Strided runs of a vec:: kernel go through a small buffer: the same results as
// contiguous data, at vector speed.
constexpr int64_t kGatherBlock = 256;

}  // namespace

NDArray unary(UnaryOp op, const NDArray& a, const std::optional<NDArray>& out_arg) {
  const char* name = unary_name(op);
  check_device(a, Device::CPU, name);
  DC_CHECK_TYPE(a.dtype != DType::Bool, name << ": not supported for bool tensors");
  DC_CHECK_TYPE(!unary_needs_float(op) || a.dtype == DType::Float32 || a.dtype == DType::Float64,
                name << ": expected a float32 or float64 tensor, got " << dtype_name(a.dtype));
  NDArray out = prepare_out(name, a.shape, a.dtype, out_arg);
  StridedLoop<2> loop(a.shape, {out.strides, a.strides});
  dispatch_dtype(a.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      T* po = out.data<T>();
      const T* pa = a.data<T>();
      const auto vf = vec_unary<T>(op);
      const bool costly = op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Tanh ||
                          op == UnaryOp::Sigmoid || op == UnaryOp::Sqrt || op == UnaryOp::Reciprocal;
      const int64_t grain = costly ? kTranscendentalGrain : kElementwiseGrain;
      loop.run(grain, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
        T* o = po + off[0];
        const T* x = pa + off[1];
        if (vf) {
          if (st[0] == 1 && st[1] == 1) return vf(x, o, n);
          T buf[kGatherBlock];
          for (int64_t b = 0; b < n; b += kGatherBlock) {
            const int64_t c = std::min(kGatherBlock, n - b);
            for (int64_t i = 0; i < c; ++i) buf[i] = x[(b + i) * st[1]];
            vf(buf, buf, c);
            for (int64_t i = 0; i < c; ++i) o[(b + i) * st[0]] = buf[i];
          }
          return;
        }
        if (st[0] == 1 && st[1] == 1) {
          switch (op) {  // the common cheap ops get their own loops so they vectorize
            case UnaryOp::Relu: for (int64_t i = 0; i < n; ++i) o[i] = x[i] < T(0) ? T(0) : x[i]; return;
            case UnaryOp::Neg: for (int64_t i = 0; i < n; ++i) o[i] = -x[i]; return;
            case UnaryOp::Square: for (int64_t i = 0; i < n; ++i) o[i] = x[i] * x[i]; return;
            default: for (int64_t i = 0; i < n; ++i) o[i] = apply_unary(op, x[i]); return;
          }
        }
        for (int64_t i = 0; i < n; ++i) o[i * st[0]] = apply_unary(op, x[i * st[1]]);
      });
    }
  });
  if (out_arg) out.bump_version();
  return out;
}

NDArray binary(BinaryOp op, const NDArray& a, const NDArray& b, const std::optional<NDArray>& out_arg) {
  const char* name = binary_name(op);
  check_device(a, Device::CPU, name);
  check_device(b, Device::CPU, name);
  DC_CHECK_TYPE(a.dtype == b.dtype, name << ": operands have different dtypes " << dtype_name(a.dtype) << " and "
                                         << dtype_name(b.dtype));
  check_binary_types(op, a.dtype);
  Shape shape = broadcast_shapes(a.shape, b.shape, name);
  DType out_dtype = is_comparison(op) ? DType::Bool : a.dtype;
  NDArray out = prepare_out(name, shape, out_dtype, out_arg);
  StridedLoop<3> loop(shape, {out.strides, broadcast_strides(a, shape), broadcast_strides(b, shape)});
  dispatch_dtype(a.dtype, [&]<class T>() { binary_dispatch<T>(op, loop, out, a, b); });
  if (out_arg) out.bump_version();
  return out;
}

NDArray binary_scalar(BinaryOp op, const NDArray& a, double scalar, bool reverse,
                      const std::optional<NDArray>& out_arg) {
  // A one-element array broadcast by stride 0: the same loops as binary().
  NDArray s = full({}, scalar, a.dtype == DType::Bool ? DType::Float32 : a.dtype);
  if (a.dtype == DType::Bool) s = cast(s, DType::Bool);
  return reverse ? binary(op, s, a, out_arg) : binary(op, a, s, out_arg);
}

NDArray where(const NDArray& cond, const NDArray& a, const NDArray& b) {
  check_device(cond, Device::CPU, "where");
  check_device(a, Device::CPU, "where");
  check_device(b, Device::CPU, "where");
  DC_CHECK_TYPE(cond.dtype == DType::Bool, "where: condition must be bool, got " << dtype_name(cond.dtype));
  DC_CHECK_TYPE(a.dtype == b.dtype, "where: operands have different dtypes " << dtype_name(a.dtype) << " and "
                                                                             << dtype_name(b.dtype));
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape, a.shape, "where"), b.shape, "where");
  NDArray out = empty(shape, a.dtype);
  StridedLoop<4> loop(shape, {out.strides, broadcast_strides(cond, shape), broadcast_strides(a, shape),
                              broadcast_strides(b, shape)});
  dispatch_dtype(a.dtype, [&]<class T>() {
    T* po = out.data<T>();
    const bool* pc = cond.data<bool>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    loop.run(kElementwiseGrain, [&](int64_t n, std::array<int64_t, 4> off, std::array<int64_t, 4> st) {
      for (int64_t i = 0; i < n; ++i)
        po[off[0] + i * st[0]] = pc[off[1] + i * st[1]] ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
    });
  });
  return out;
}

}  // namespace deepcore::cpu
