// Memory overlap between the array a kernel writes and the arrays it reads (CPU and CUDA alike).
//
// An in-place write whose result would depend on the order the elements are visited in is refused,
// with PyTorch's messages and exception (RuntimeError), instead of being silently wrong:
//   - the written array reaches one location through two indices (an expanded view);
//   - it and an input are both dense and share memory at different indices (x[1:] += x[:-1],
//     x.copy_(x.t())).
// Strided views whose memory ranges merely interleave (x[:, 1:] vs x[:, :-1], a row expanded over
// its own matrix) may or may not meet; deciding is costly, so the kernel reads a copy of the input
// instead, which gives the out-of-place answer. Every test starts from the byte ranges, so arrays
// in different memory cost two additions per dimension.
#pragma once
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/ndarray.h"

namespace deepcore {

enum class Overlap {
  None,         // disjoint memory
  Full,         // element i of out is element i of in: an elementwise kernel may write in place
  Partial,      // both dense, meeting at different indices: refused, as in PyTorch
  Interleaved,  // strided ranges that interleave: the kernel must read a copy of the input
};

// True when two indices of (shape, strides) name one location: a stride of 0 along a dimension
// longer than 1 (expand), or strides that fold dimensions onto each other (as_strided, unfold).
// Sorted by stride, every dimension must step past all that the smaller ones reach. Views made by
// slicing, transposing and permuting always do; only an as_strided view that interleaves without
// touching is counted as overlapping when it is not.
inline bool has_internal_overlap(const Shape& shape, const Shape& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dimensions longer than 1
  dims.reserve(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return false;
    if (shape[d] > 1) dims.emplace_back(strides[d], shape[d]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t reach = 0;  // the largest element offset the smaller dimensions reach
  for (const auto& [stride, size] : dims) {
    if (stride <= reach) return true;
    reach += (size - 1) * stride;
  }
  return false;
}

inline bool has_internal_overlap(const NDArray& a) { return has_internal_overlap(a.shape, a.strides); }

// Bytes [lo, hi) that a non-empty array touches.
inline std::pair<uintptr_t, uintptr_t> byte_range(const NDArray& a) {
  int64_t last = 0;
  for (size_t d = 0; d < a.shape.size(); ++d) last += (a.shape[d] - 1) * a.strides[d];
  const uintptr_t lo = reinterpret_cast<uintptr_t>(a.raw());
  return {lo, lo + static_cast<uintptr_t>(last + 1) * a.item_size()};
}

// Every element of its range belongs to exactly one index (PyTorch's "non-overlapping and dense").
inline bool is_dense(const NDArray& a) {
  const auto [lo, hi] = byte_range(a);
  return static_cast<int64_t>((hi - lo) / a.item_size()) == a.numel() && !has_internal_overlap(a);
}

// True when `in`, broadcast to out's shape, reads at every index of out the element written there.
inline bool same_elements(const NDArray& out, const NDArray& in) {
  if (in.dtype != out.dtype || in.raw() != out.raw() || in.ndim() > out.ndim()) return false;
  const size_t lead = out.shape.size() - in.shape.size();
  for (size_t d = 0; d < out.shape.size(); ++d) {
    if (out.shape[d] == 1) continue;
    if (d < lead || in.shape[d - lead] != out.shape[d] || in.strides[d - lead] != out.strides[d]) return false;
  }
  return true;
}

inline Overlap overlap_of(const NDArray& out, const NDArray& in) {
  if (out.numel() == 0 || in.numel() == 0) return Overlap::None;
  const auto [olo, ohi] = byte_range(out);
  const auto [ilo, ihi] = byte_range(in);
  if (ohi <= ilo || ihi <= olo) return Overlap::None;
  if (same_elements(out, in)) return Overlap::Full;
  if (is_dense(out) && is_dense(in)) return Overlap::Partial;
  return Overlap::Interleaved;
}

inline const char* overlap_name(Overlap o) {
  switch (o) {
    case Overlap::None: return "none";
    case Overlap::Full: return "full";
    case Overlap::Partial: return "partial";
    case Overlap::Interleaved: return "interleaved";
  }
  return "?";
}

// PyTorch's messages, after the op's name.
inline std::runtime_error internal_overlap_error(const std::string& op) {
  return std::runtime_error(op + ": unsupported operation: more than one element of the written-to tensor refers "
                                 "to a single memory location. Please clone() the tensor before performing the "
                                 "operation.");
}

inline std::runtime_error partial_overlap_error(const std::string& op) {
  return std::runtime_error(op + ": unsupported operation: some elements of the input tensor and the written-to "
                                 "tensor refer to a single memory location. Please clone() the tensor before "
                                 "performing the operation.");
}

inline void check_no_internal_overlap(const NDArray& out, const std::string& op) {
  if (has_internal_overlap(out)) throw internal_overlap_error(op);
}

// Throws for a partial overlap; true when the kernel must read a copy of `in` (interleaved ranges).
inline bool input_needs_copy(const NDArray& out, const NDArray& in, const std::string& op) {
  switch (overlap_of(out, in)) {
    case Overlap::Partial: throw partial_overlap_error(op);
    case Overlap::Interleaved: return true;
    default: return false;
  }
}

// copy_ may write an expanded destination when each set of its indices sharing a location receives one
// source element (fill_ of an expanded view writes one value): src is broadcast (stride 0) along every
// stride-0 dimension of dst, and dst has no other overlap.
inline bool repeated_writes_agree(const NDArray& dst, const Shape& src_strides) {
  Shape rest = dst.shape;
  for (size_t d = 0; d < dst.shape.size(); ++d) {
    if (dst.shape[d] <= 1 || dst.strides[d] != 0) continue;
    if (src_strides[d] != 0) return false;
    rest[d] = 1;
  }
  return !has_internal_overlap(rest, dst.strides);
}

}  // namespace deepcore
