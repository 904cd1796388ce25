// The elementwise vocabulary shared by the CPU and CUDA engines.
#pragma once

namespace deepcore {

// New ops go at the end: the Python layer and both engines share these values.
enum class UnaryOp : int {
  Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, Relu, Sign, Square, Reciprocal,
  Sin, Cos, Floor, Ceil, Round, Log1p, Expm1, Erf, Erfinv
};

// Comparisons produce bool; everything else keeps the operands' dtype. Remainder is Python's %
// (the sign of the divisor), Fmod C's (the sign of the dividend), FloorDivide Python's //.
enum class BinaryOp : int {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Remainder, Fmod, FloorDivide
};

inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::Ge; }

enum class ReduceOp : int { Sum, Mean, Max, Min };

}  // namespace deepcore
