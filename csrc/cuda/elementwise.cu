// Elementwise unary and binary operations on CUDA arrays.
#include "cuda/elementwise.h"

#include "cuda/launch.h"  // the CUDA runtime, or the emulator's (DEEPCORE_CUDA_EMULATOR)

#include <array>
#include <cmath>
#include <string>
#include <type_traits>

#include "common/overlap.h"
#include "cuda/memory.h"

namespace deepcore::cuda {

namespace {

using detail::Indexer;
using detail::kThreads;

template <class T>
constexpr bool is_float_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
__device__ __forceinline__ bool is_nan(T x) {
  if constexpr (is_float_v<T>) {
    return x != x;
  } else {
    return false;
  }
}

// ---- unary functors ------------------------------------------------------------

struct NegF {
  template <class T>
  __device__ __forceinline__ T operator()(T x) const { return -x; }
};
struct ExpF {
  __device__ __forceinline__ float operator()(float x) const { return expf(x); }
  __device__ __forceinline__ double operator()(double x) const { return exp(x); }
};
struct LogF {
  __device__ __forceinline__ float operator()(float x) const { return logf(x); }
  __device__ __forceinline__ double operator()(double x) const { return log(x); }
};
struct SqrtF {
  __device__ __forceinline__ float operator()(float x) const { return sqrtf(x); }
  __device__ __forceinline__ double operator()(double x) const { return sqrt(x); }
};
struct AbsF {
  template <class T>
  __device__ __forceinline__ T operator()(T x) const { return x < T(0) ? -x : x; }
};
struct TanhF {
  __device__ __forceinline__ float operator()(float x) const { return tanhf(x); }
  __device__ __forceinline__ double operator()(double x) const { return tanh(x); }
};
struct SigmoidF {  // neither branch overflows: exp of a non-positive number only (as on the CPU)
  __device__ __forceinline__ float operator()(float x) const {
    return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
  }
  __device__ __forceinline__ double operator()(double x) const {
    return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
  }
};
struct ReluF {  // NaN propagates and relu(-0) = -0, as on the CPU (found by the emulator's tests)
  template <class T>
  __device__ __forceinline__ T operator()(T x) const { return x < T(0) ? T(0) : x; }
};
struct SignF {  // sign(0) = 0 and sign(NaN) = 0, as on the CPU
  template <class T>
  __device__ __forceinline__ T operator()(T x) const {
    return static_cast<T>(int(T(0) < x) - int(x < T(0)));
  }
};
struct SquareF {
  template <class T>
  __device__ __forceinline__ T operator()(T x) const { return x * x; }
};
struct ReciprocalF {
  template <class T>
  __device__ __forceinline__ T operator()(T x) const { return T(1) / x; }
};
struct SinF {
  __device__ __forceinline__ float operator()(float x) const { return sinf(x); }
  __device__ __forceinline__ double operator()(double x) const { return sin(x); }
};
struct CosF {
  __device__ __forceinline__ float operator()(float x) const { return cosf(x); }
  __device__ __forceinline__ double operator()(double x) const { return cos(x); }
};
struct Log1pF {
  __device__ __forceinline__ float operator()(float x) const { return log1pf(x); }
  __device__ __forceinline__ double operator()(double x) const { return log1p(x); }
};
struct Expm1F {
  __device__ __forceinline__ float operator()(float x) const { return expm1f(x); }
  __device__ __forceinline__ double operator()(double x) const { return expm1(x); }
};
// Rounding: integers are whole already (the identity); floats round half to even, as on the CPU.
struct FloorF {
  __device__ __forceinline__ float operator()(float x) const { return floorf(x); }
  __device__ __forceinline__ double operator()(double x) const { return floor(x); }
  __device__ __forceinline__ int64_t operator()(int64_t x) const { return x; }
};
struct CeilF {
  __device__ __forceinline__ float operator()(float x) const { return ceilf(x); }
  __device__ __forceinline__ double operator()(double x) const { return ceil(x); }
  __device__ __forceinline__ int64_t operator()(int64_t x) const { return x; }
};
struct RoundF {
  __device__ __forceinline__ float operator()(float x) const { return rintf(x); }
  __device__ __forceinline__ double operator()(double x) const { return rint(x); }
  __device__ __forceinline__ int64_t operator()(int64_t x) const { return x; }
};

struct ErfF {
  __device__ __forceinline__ float operator()(float x) const { return erff(x); }
  __device__ __forceinline__ double operator()(double x) const { return erf(x); }
};
struct ErfinvF {
  __device__ __forceinline__ float operator()(float x) const { return erfinvf(x); }
  __device__ __forceinline__ double operator()(double x) const { return erfinv(x); }
};

// ---- binary functors -------------------------------------------------------------

struct AddF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct SubF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a - b; }
};
struct MulF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a * b; }
};
struct DivF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a / b; }
};
struct PowF {
  __device__ __forceinline__ float operator()(float a, float b) const { return powf(a, b); }
  __device__ __forceinline__ double operator()(double a, double b) const { return pow(a, b); }
};
struct MaximumF {  // NaN propagates
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return a > b ? a : b;
  }
};
struct MinimumF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return a < b ? a : b;
  }
};
struct EqF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a == b; }
};
struct NeF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a != b; }
};
struct LtF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a < b; }
};
struct LeF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a <= b; }
};
struct GtF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a > b; }
};
struct GeF {
  template <class T>
  __device__ __forceinline__ uint8_t operator()(T a, T b) const { return a >= b; }
};

// Python's % and //, C's fmod: the CPU engine's formulas (csrc/cpu/elementwise.cpp, divmod_op).
// Integer division by zero is refused in Python first; 0 here keeps the kernel defined.
template <int KIND>  // 0: remainder, 1: fmod, 2: floor_divide
struct DivModF {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) {
      const T mod = fmod(a, b);
      if constexpr (KIND == 1) return mod;
      const bool adjust = mod != T(0) && ((b < T(0)) != (mod < T(0)));
      if constexpr (KIND == 0) return adjust ? mod + b : mod;
      if (b == T(0)) return a / b;
      T div = (a - mod) / b;
      if (adjust) div -= T(1);
      if (div == T(0)) return copysign(T(0), a / b);
      T floordiv = floor(div);
      if (div - floordiv > T(0.5)) floordiv += T(1);
      return floordiv;
    } else {
      if (b == 0) return T(0);
      if (b == -1) return KIND == 2 ? static_cast<T>(0ULL - static_cast<unsigned long long>(a)) : T(0);
      const T mod = a % b;
      if constexpr (KIND == 1) return mod;
      const bool adjust = mod != 0 && ((b < 0) != (mod < 0));
      if constexpr (KIND == 0) return adjust ? mod + b : mod;
      return a / b - (adjust ? 1 : 0);
    }
  }
};

// A binary functor with one operand fixed to a scalar, as a unary functor.
template <class F, class T>
struct RightScalar {  // x OP s
  F f;
  T s;
  __device__ __forceinline__ auto operator()(T x) const { return f(x, s); }
};
template <class F, class T>
struct LeftScalar {  // s OP x
  F f;
  T s;
  __device__ __forceinline__ auto operator()(T x) const { return f(s, x); }
};

// ---- kernels ---------------------------------------------------------------------

#define DC_GRID_STRIDE(I, i, n) \
  for (I i = blockIdx.x * I(blockDim.x) + threadIdx.x; i < (n); i += I(blockDim.x) * gridDim.x)

template <class T, class R, class F>
__global__ void unary_contig_kernel(const T* __restrict__ a, R* __restrict__ out, int64_t n, F f) {
  DC_GRID_STRIDE(int64_t, i, n) { out[i] = f(a[i]); }
}

// Operand 0 is out, operand 1 is a.
template <class T, class R, class F, class I>
__global__ void unary_strided_kernel(const T* a, R* out, I n, Indexer<2> ix, F f) {
  DC_GRID_STRIDE(I, i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = f(a[off[1]]);
  }
}

template <class T, class R, class F>
__global__ void binary_contig_kernel(const T* a, const T* b, R* out, int64_t n, F f) {
  DC_GRID_STRIDE(int64_t, i, n) { out[i] = f(a[i], b[i]); }
}

// Operand 0 is out, 1 is a, 2 is b.
template <class T, class R, class F, class I>
__global__ void binary_strided_kernel(const T* a, const T* b, R* out, I n, Indexer<3> ix, F f) {
  DC_GRID_STRIDE(I, i, n) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

// ---- launchers -------------------------------------------------------------------

// out[i] = f(a[i]) with a broadcast to out.shape; operands already checked.
template <class T, class R, class F>
void launch_unary(const NDArray& a, const NDArray& out, F f, const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const unsigned grid = detail::grid_for(n);
  if (a.shape == out.shape && a.is_contiguous() && out.is_contiguous()) {
    DEEPCORE_LAUNCH(op, grid, kThreads, unary_contig_kernel<T, R, F>)(a.data<T>(), out.data<R>(), n, f);
    return;
  }
  Shape ast = broadcast_strides(a, out.shape);
  const Shape* st[2] = {&out.strides, &ast};
  Indexer<2> ix(detail::collapse<2>(out.shape, st, op));
  if (n <= INT32_MAX)
    DEEPCORE_LAUNCH(op, grid, kThreads, unary_strided_kernel<T, R, F, uint32_t>)(
        a.data<T>(), out.data<R>(), static_cast<uint32_t>(n), ix, f);
  else
    DEEPCORE_LAUNCH(op, grid, kThreads, unary_strided_kernel<T, R, F, int64_t>)(a.data<T>(), out.data<R>(), n, ix, f);
}

template <class T, class R, class F>
void launch_binary(const NDArray& a, const NDArray& b, const NDArray& out, F f, const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const unsigned grid = detail::grid_for(n);
  if (a.shape == out.shape && b.shape == out.shape && a.is_contiguous() && b.is_contiguous() &&
      out.is_contiguous()) {
    DEEPCORE_LAUNCH(op, grid, kThreads, binary_contig_kernel<T, R, F>)(a.data<T>(), b.data<T>(), out.data<R>(), n, f);
    return;
  }
  Shape ast = broadcast_strides(a, out.shape);
  Shape bst = broadcast_strides(b, out.shape);
  const Shape* st[3] = {&out.strides, &ast, &bst};
  Indexer<3> ix(detail::collapse<3>(out.shape, st, op));
  if (n <= INT32_MAX)
    DEEPCORE_LAUNCH(op, grid, kThreads, binary_strided_kernel<T, R, F, uint32_t>)(
        a.data<T>(), b.data<T>(), out.data<R>(), static_cast<uint32_t>(n), ix, f);
  else
    DEEPCORE_LAUNCH(op, grid, kThreads, binary_strided_kernel<T, R, F, int64_t>)(a.data<T>(), b.data<T>(),
                                                                                 out.data<R>(), n, ix, f);
}

// ---- op tables ---------------------------------------------------------------------

// Runs fn(functor) for `op` when dtype T supports it; returns false otherwise.
template <class T, class Fn>
bool with_unary(UnaryOp op, Fn&& fn) {
  constexpr bool flt = is_float_v<T>;
  constexpr bool i64 = std::is_same_v<T, int64_t>;
  switch (op) {
    case UnaryOp::Neg:
      if constexpr (flt || i64) return fn(NegF{}), true;
      break;
    case UnaryOp::Abs:
      if constexpr (flt || i64) return fn(AbsF{}), true;
      break;
    case UnaryOp::Relu:
      if constexpr (flt || i64) return fn(ReluF{}), true;
      break;
    case UnaryOp::Sign:
      if constexpr (flt || i64) return fn(SignF{}), true;
      break;
    case UnaryOp::Square:
      if constexpr (flt || i64) return fn(SquareF{}), true;
      break;
    case UnaryOp::Exp:
      if constexpr (flt) return fn(ExpF{}), true;
      break;
    case UnaryOp::Log:
      if constexpr (flt) return fn(LogF{}), true;
      break;
    case UnaryOp::Sqrt:
      if constexpr (flt) return fn(SqrtF{}), true;
      break;
    case UnaryOp::Tanh:
      if constexpr (flt) return fn(TanhF{}), true;
      break;
    case UnaryOp::Sigmoid:
      if constexpr (flt) return fn(SigmoidF{}), true;
      break;
    case UnaryOp::Reciprocal:
      if constexpr (flt) return fn(ReciprocalF{}), true;
      break;
    case UnaryOp::Sin:
      if constexpr (flt) return fn(SinF{}), true;
      break;
    case UnaryOp::Cos:
      if constexpr (flt) return fn(CosF{}), true;
      break;
    case UnaryOp::Log1p:
      if constexpr (flt) return fn(Log1pF{}), true;
      break;
    case UnaryOp::Expm1:
      if constexpr (flt) return fn(Expm1F{}), true;
      break;
    case UnaryOp::Floor:
      if constexpr (flt || i64) return fn(FloorF{}), true;
      break;
    case UnaryOp::Ceil:
      if constexpr (flt || i64) return fn(CeilF{}), true;
      break;
    case UnaryOp::Round:
      if constexpr (flt || i64) return fn(RoundF{}), true;
      break;
    case UnaryOp::Erf:
      if constexpr (flt) return fn(ErfF{}), true;
      break;
    case UnaryOp::Erfinv:
      if constexpr (flt) return fn(ErfinvF{}), true;
      break;
  }
  return false;
}

// fn(functor, is_comparison) for `op` when dtype T supports it.
template <class T, class Fn>
bool with_binary(BinaryOp op, Fn&& fn) {
  // Same table as the CPU engine: bool supports eq/ne only; int64 all but div and pow.
  constexpr bool flt = is_float_v<T>;
  constexpr bool num = flt || std::is_same_v<T, int64_t>;
  switch (op) {
    case BinaryOp::Add:
      if constexpr (num) return fn(AddF{}), true;
      break;
    case BinaryOp::Sub:
      if constexpr (num) return fn(SubF{}), true;
      break;
    case BinaryOp::Mul:
      if constexpr (num) return fn(MulF{}), true;
      break;
    case BinaryOp::Div:
      if constexpr (flt) return fn(DivF{}), true;
      break;
    case BinaryOp::Pow:
      if constexpr (flt) return fn(PowF{}), true;
      break;
    case BinaryOp::Maximum:
      if constexpr (num) return fn(MaximumF{}), true;
      break;
    case BinaryOp::Minimum:
      if constexpr (num) return fn(MinimumF{}), true;
      break;
    case BinaryOp::Eq: return fn(EqF{}), true;
    case BinaryOp::Ne: return fn(NeF{}), true;
    case BinaryOp::Lt:
      if constexpr (num) return fn(LtF{}), true;
      break;
    case BinaryOp::Le:
      if constexpr (num) return fn(LeF{}), true;
      break;
    case BinaryOp::Gt:
      if constexpr (num) return fn(GtF{}), true;
      break;
    case BinaryOp::Ge:
      if constexpr (num) return fn(GeF{}), true;
      break;
    case BinaryOp::Remainder:
      if constexpr (num) return fn(DivModF<0>{}), true;
      break;
    case BinaryOp::Fmod:
      if constexpr (num) return fn(DivModF<1>{}), true;
      break;
    case BinaryOp::FloorDivide:
      if constexpr (num) return fn(DivModF<2>{}), true;
      break;
  }
  return false;
}

template <class F>
void dispatch_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::Bool: return f(uint8_t{});
  }
  throw ValueError("cuda: unknown dtype");
}

// Validates `out` (or allocates it) and returns the array to write into.
NDArray prepare_out(const NDArray* out, const Shape& shape, DType dtype, int dev, const char* op) {
  if (!out) return empty(shape, dtype, dev);
  detail::require_cuda(*out, op);
  DC_CHECK(out->storage->device_index == dev,
           op << ": out is on cuda:" << out->storage->device_index << " but the inputs are on cuda:" << dev);
  DC_CHECK(out->shape == shape, op << ": output has shape " << shape_str(out->shape)
                                   << " but the result has shape " << shape_str(shape));
  DC_CHECK_TYPE(out->dtype == dtype, op << ": output has dtype " << dtype_name(out->dtype) << " but the result is "
                                        << dtype_name(dtype));
  return *out;
}

// The CPU kernels' rules (common/overlap.h): refuses an out= write that would be ill-defined and
// returns the inputs to read, each itself or a private copy where its memory interleaves with out's.
// The message names the in-place op (add_) when out is one of the inputs.
template <size_t N>
std::array<NDArray, N> unaliased(const char* name, const NDArray* out, std::array<NDArray, N> in) {
  if (!out) return in;
  bool in_place = false;
  for (const NDArray& a : in) in_place = in_place || same_elements(*out, a);
  auto label = [&] { return std::string(name) + (in_place ? "_" : " (out=)"); };
  if (has_internal_overlap(*out)) throw internal_overlap_error(label());
  for (NDArray& a : in) {
    const Overlap ov = overlap_of(*out, a);
    if (ov == Overlap::Partial) throw partial_overlap_error(label());
    if (ov == Overlap::Interleaved) {
      NDArray copy = empty(a.shape, a.dtype, a.storage->device_index);
      copy_(copy, a);
      a = copy;
    }
  }
  return in;
}

std::string op_label(const char* kind, const char* name) { return std::string(kind) + " " + name; }

}  // namespace

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Sign: return "sign";
    case UnaryOp::Square: return "square";
    case UnaryOp::Reciprocal: return "reciprocal";
    case UnaryOp::Sin: return "sin";
    case UnaryOp::Cos: return "cos";
    case UnaryOp::Floor: return "floor";
    case UnaryOp::Ceil: return "ceil";
    case UnaryOp::Round: return "round";
    case UnaryOp::Log1p: return "log1p";
    case UnaryOp::Expm1: return "expm1";
    case UnaryOp::Erf: return "erf";
    case UnaryOp::Erfinv: return "erfinv";
  }
  return "?";
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Ne: return "ne";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Le: return "le";
    case BinaryOp::Gt: return "gt";
    case BinaryOp::Ge: return "ge";
    case BinaryOp::Remainder: return "remainder";
    case BinaryOp::Fmod: return "fmod";
    case BinaryOp::FloorDivide: return "floor_divide";
  }
  return "?";
}

namespace {

bool unary_supported(UnaryOp op, DType dt) {
  bool ok = false;
  dispatch_dtype(dt, [&](auto tv) { ok = with_unary<decltype(tv)>(op, [](auto) {}); });
  return ok;
}

bool binary_supported(BinaryOp op, DType dt) {
  bool ok = false;
  dispatch_dtype(dt, [&](auto tv) { ok = with_binary<decltype(tv)>(op, [](auto) {}); });
  return ok;
}

void check_binary_dtype(BinaryOp op, DType dt, const char* name) {
  DC_CHECK_TYPE(binary_supported(op, dt),
                name << ": not supported for " << dtype_name(dt) << " tensors"
                     << (dt == DType::Bool ? " (convert with .float() or .long() first)"
                                           : " (the Python layer converts to float first)"));
}

}  // namespace

NDArray unary(UnaryOp op, const NDArray& a_in, const NDArray* out_arg) {
  const std::string label = op_label("cuda", unary_op_name(op));
  const char* name = label.c_str();
  detail::require_cuda(a_in, name);
  if (out_arg) detail::require_cuda(*out_arg, name);
  DC_CHECK_TYPE(a_in.dtype != DType::Bool, name << ": not supported for bool tensors");
  DC_CHECK_TYPE(unary_supported(op, a_in.dtype),
                name << ": expected a float32 or float64 tensor, got " << dtype_name(a_in.dtype));
  const int dev = a_in.storage->device_index;
  detail::DeviceGuard g(dev, name);
  NDArray out = prepare_out(out_arg, a_in.shape, a_in.dtype, dev, name);
  const NDArray a = unaliased<1>(name, out_arg, {a_in})[0];
  dispatch_dtype(a.dtype, [&](auto tv) {
    using T = decltype(tv);
    with_unary<T>(op, [&](auto f) { launch_unary<T, T>(a, out, f, name); });
  });
  return out;
}

NDArray binary(BinaryOp op, const NDArray& a_in, const NDArray& b_in, const NDArray* out_arg) {
  const std::string label = op_label("cuda", binary_op_name(op));
  const char* name = label.c_str();
  detail::require_cuda(a_in, name);
  detail::require_cuda(b_in, name);
  if (out_arg) detail::require_cuda(*out_arg, name);
  detail::require_same_device(a_in, b_in, name);
  DC_CHECK_TYPE(a_in.dtype == b_in.dtype, name << ": operands have different dtypes " << describe(a_in) << " and "
                                                << describe(b_in));
  check_binary_dtype(op, a_in.dtype, name);
  const Shape shape = broadcast_shapes(a_in.shape, b_in.shape, name);
  const DType rdt = is_comparison(op) ? DType::Bool : a_in.dtype;
  const int dev = a_in.storage->device_index;
  detail::DeviceGuard g(dev, name);
  NDArray out = prepare_out(out_arg, shape, rdt, dev, name);
  const std::array<NDArray, 2> ab = unaliased<2>(name, out_arg, {a_in, b_in});
  const NDArray &a = ab[0], &b = ab[1];
  dispatch_dtype(a.dtype, [&](auto tv) {
    using T = decltype(tv);
    with_binary<T>(op, [&](auto f) {
      using R = decltype(f(T{}, T{}));
      launch_binary<T, R>(a, b, out, f, name);
    });
  });
  return out;
}

NDArray binary_scalar(BinaryOp op, const NDArray& a_in, double scalar, bool reverse, const NDArray* out_arg) {
  const std::string label = op_label("cuda", binary_op_name(op));
  const char* name = label.c_str();
  detail::require_cuda(a_in, name);
  if (out_arg) detail::require_cuda(*out_arg, name);
  check_binary_dtype(op, a_in.dtype, name);
  const DType rdt = is_comparison(op) ? DType::Bool : a_in.dtype;
  const int dev = a_in.storage->device_index;
  detail::DeviceGuard g(dev, name);
  NDArray out = prepare_out(out_arg, a_in.shape, rdt, dev, name);
  const NDArray a = unaliased<1>(name, out_arg, {a_in})[0];
  dispatch_dtype(a.dtype, [&](auto tv) {
    using T = decltype(tv);
    // As on the CPU: the scalar is converted to the array's dtype (bool: s != 0).
    const T s = std::is_same_v<T, uint8_t> ? T(scalar != 0.0) : static_cast<T>(scalar);
    with_binary<T>(op, [&](auto f) {
      using F = decltype(f);
      using R = decltype(f(T{}, T{}));
      if (reverse)
        launch_unary<T, R>(a, out, LeftScalar<F, T>{f, s}, name);
      else
        launch_unary<T, R>(a, out, RightScalar<F, T>{f, s}, name);
    });
  });
  return out;
}

}  // namespace deepcore::cuda
