// The elementwise vocabulary shared by the CPU and CUDA engines.
#pragma once

namespace deepcore {

enum class UnaryOp : int { Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, Relu, Sign, Square, Reciprocal };

// Comparisons produce bool; everything else keeps the operands' dtype.
enum class BinaryOp : int { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };

inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

enum class ReduceOp : int { Sum, Mean, Max, Min };

}  // namespace deepcore
