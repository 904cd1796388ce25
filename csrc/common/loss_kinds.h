// The losses' reductions and pointwise kinds, parsed in one place for both engines (csrc/cpu/loss.cpp
// and its CUDA twin csrc/cuda/loss.cu), so both accept the same names and refuse others in the same words.
#pragma once
#include <string>

#include "common/ndarray.h"

namespace deepcore::loss {

enum class Reduction { None, Mean, Sum };

inline Reduction parse_reduction(const std::string& r, const char* op) {
  if (r == "none") return Reduction::None;
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  throw ValueError(std::string(op) + ": reduction must be 'none', 'mean' or 'sum', got '" + r + "'");
}

enum class Pointwise { MSE, L1, BCE, BCEWithLogits };

inline Pointwise parse_kind(const std::string& kind) {
  if (kind == "mse") return Pointwise::MSE;
  if (kind == "l1") return Pointwise::L1;
  if (kind == "bce") return Pointwise::BCE;
  if (kind == "bce_with_logits") return Pointwise::BCEWithLogits;
  throw ValueError("pointwise_loss: unknown loss '" + kind + "' (expected mse, l1, bce or bce_with_logits)");
}

// The op name errors carry (PyTorch's functional names).
inline const char* kind_name(Pointwise k) {
  switch (k) {
    case Pointwise::MSE: return "mse_loss";
    case Pointwise::L1: return "l1_loss";
    case Pointwise::BCE: return "binary_cross_entropy";
    case Pointwise::BCEWithLogits: return "binary_cross_entropy_with_logits";
  }
  return "?";
}

}  // namespace deepcore::loss
