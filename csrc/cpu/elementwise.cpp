// Elementwise kernels: unary math, binary arithmetic and comparisons, where.
#include "cpu/elementwise.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "common/overlap.h"
#include "cpu/memory.h"
#include "cpu/strided_loop.h"
#include "cpu/vec_math.h"

namespace deepcore::cpu {

namespace {

// The inverse error function: Giles' single-precision polynomial (Approximating the erfinv
// function, GPU Gems 2010) as a start, then two Newton steps on erf in double, which take the
// ~1e-7 start to full double precision.
inline double erfinv_of(double y) {
  if (!(y > -1.0 && y < 1.0)) {
    if (y == 1.0) return HUGE_VAL;
    if (y == -1.0) return -HUGE_VAL;
    return std::nan("");  // |y| > 1 and NaN
  }
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double x = p * y;
  for (int step = 0; step < 2; ++step) x -= (std::erf(x) - y) / (1.1283791670955126 * std::exp(-x * x));
  return x;
}

template <class T>
T apply_unary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::Relu: return x < T(0) ? T(0) : x;  // NaN propagates
    case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));
    case UnaryOp::Square: return x * x;
    // Integers are already whole numbers: rounding them is the identity, as in PyTorch.
    case UnaryOp::Floor: if constexpr (std::is_floating_point_v<T>) return std::floor(x); else return x;
    case UnaryOp::Ceil: if constexpr (std::is_floating_point_v<T>) return std::ceil(x); else return x;
    // Half to even (PyTorch's and NumPy's rule): nearbyint in the default rounding mode.
    case UnaryOp::Round: if constexpr (std::is_floating_point_v<T>) return std::nearbyint(x); else return x;
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
      case UnaryOp::Sin: return std::sin(x);
      case UnaryOp::Cos: return std::cos(x);
      case UnaryOp::Log1p: return std::log1p(x);
      case UnaryOp::Expm1: return std::expm1(x);
      case UnaryOp::Erf: return std::erf(x);
      case UnaryOp::Erfinv: return static_cast<T>(erfinv_of(static_cast<double>(x)));
      default: break;
    }
  }
  return x;
}

bool unary_needs_float(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Relu: case UnaryOp::Sign: case UnaryOp::Square:
    case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round:
      return false;
    default:
      return true;
  }
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sign", "square",
                                "reciprocal", "sin", "cos", "floor", "ceil", "round", "log1p", "expm1", "erf",
                                "erfinv"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
                                "remainder", "fmod", "floor_divide"};
  return names[static_cast<int>(op)];
}

// Python's % and // (and C's fmod). Integer division by zero is refused by the Python layer
// before it gets here; 0 keeps the loop free of undefined behaviour (as does b == -1, whose
// quotient of INT64_MIN overflows).
template <BinaryOp OP, class T>
inline T divmod_op(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    const T mod = std::fmod(a, b);
    if constexpr (OP == BinaryOp::Fmod) return mod;
    const bool adjust = mod != T(0) && ((b < T(0)) != (mod < T(0)));
    if constexpr (OP == BinaryOp::Remainder) return adjust ? mod + b : mod;
    // floor(a / b), computed from the exact remainder so that 7.0 // 0.1 gives 69 as in Python.
    if (b == T(0)) return a / b;
    T div = (a - mod) / b;
    if (adjust) div -= T(1);
    if (div == T(0)) return std::copysign(T(0), a / b);
    T floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += T(1);
    return floordiv;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a;  // refused for bool before any loop runs
  } else {
    if (b == 0) return T(0);
    if (b == -1) return OP == BinaryOp::FloorDivide ? static_cast<T>(0ULL - static_cast<uint64_t>(a)) : T(0);
    const T mod = a % b;
    if constexpr (OP == BinaryOp::Fmod) return mod;
    const bool adjust = mod != 0 && ((b < 0) != (mod < 0));
    if constexpr (OP == BinaryOp::Remainder) return adjust ? mod + b : mod;
    return a / b - (adjust ? 1 : 0);
  }
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
  else if constexpr (OP == BinaryOp::Ge) return a >= b;
  else return divmod_op<OP, T>(a, b);
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
    DC_BINARY_CASE(Le) DC_BINARY_CASE(Gt) DC_BINARY_CASE(Ge) DC_BINARY_CASE(Remainder) DC_BINARY_CASE(Fmod)
    DC_BINARY_CASE(FloorDivide)
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

// Refuses an out= write that would be ill-defined (common/overlap.h) and returns the inputs to read:
// each one itself, or a copy of it where its memory interleaves with out's. The message names the
// in-place op (add_) when out is one of the inputs.
template <size_t N>
std::array<NDArray, N> checked_inputs(const char* name, const NDArray& out, std::array<NDArray, N> in) {
  bool in_place = false;
  for (const NDArray& a : in) in_place = in_place || same_elements(out, a);
  auto label = [&] { return std::string(name) + (in_place ? "_" : " (out=)"); };
  if (has_internal_overlap(out)) throw internal_overlap_error(label());
  for (NDArray& a : in) {
    const Overlap ov = overlap_of(out, a);
    if (ov == Overlap::Partial) throw partial_overlap_error(label());
    if (ov == Overlap::Interleaved) {
      NDArray copy = empty(a.shape, a.dtype);
      copy_(copy, a);
      a = copy;
    }
  }
  return in;
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

NDArray unary(UnaryOp op, const NDArray& a_in, const std::optional<NDArray>& out_arg) {
  const char* name = unary_name(op);
  check_device(a_in, Device::CPU, name);
  DC_CHECK_TYPE(a_in.dtype != DType::Bool, name << ": not supported for bool tensors");
  DC_CHECK_TYPE(!unary_needs_float(op) || a_in.dtype == DType::Float32 || a_in.dtype == DType::Float64,
                name << ": expected a float32 or float64 tensor, got " << dtype_name(a_in.dtype));
  NDArray out = prepare_out(name, a_in.shape, a_in.dtype, out_arg);
  const NDArray a = out_arg ? checked_inputs<1>(name, out, {a_in})[0] : a_in;
  StridedLoop<2> loop(a.shape, {out.strides, a.strides});
  dispatch_dtype(a.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      T* po = out.data<T>();
      const T* pa = a.data<T>();
      const auto vf = vec_unary<T>(op);
      const bool costly = op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Tanh ||
                          op == UnaryOp::Sigmoid || op == UnaryOp::Sqrt || op == UnaryOp::Reciprocal ||
                          op == UnaryOp::Sin || op == UnaryOp::Cos || op == UnaryOp::Log1p ||
                          op == UnaryOp::Expm1 || op == UnaryOp::Erf || op == UnaryOp::Erfinv;
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

NDArray binary(BinaryOp op, const NDArray& a_in, const NDArray& b_in, const std::optional<NDArray>& out_arg) {
  const char* name = binary_name(op);
  check_device(a_in, Device::CPU, name);
  check_device(b_in, Device::CPU, name);
  DC_CHECK_TYPE(a_in.dtype == b_in.dtype, name << ": operands have different dtypes " << dtype_name(a_in.dtype)
                                               << " and " << dtype_name(b_in.dtype));
  check_binary_types(op, a_in.dtype);
  Shape shape = broadcast_shapes(a_in.shape, b_in.shape, name);
  DType out_dtype = is_comparison(op) ? DType::Bool : a_in.dtype;
  NDArray out = prepare_out(name, shape, out_dtype, out_arg);
  const std::array<NDArray, 2> ab = out_arg ? checked_inputs<2>(name, out, {a_in, b_in})
                                             : std::array<NDArray, 2>{a_in, b_in};
  const NDArray &a = ab[0], &b = ab[1];
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
