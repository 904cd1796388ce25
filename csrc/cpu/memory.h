// Allocation, copies and dtype casts on the CPU.
#pragma once
#include "common/ndarray.h"

namespace deepcore::cpu {

NDArray empty(const Shape& shape, DType dtype);   // 64-byte aligned, uninitialised
NDArray full(const Shape& shape, double value, DType dtype);
NDArray contiguous(const NDArray& a);             // `a` itself when already contiguous
void copy_(const NDArray& dst, const NDArray& src);  // broadcasts src to dst's shape, casts dtype
NDArray cast(const NDArray& a, DType dtype);      // a new contiguous array
size_t cpu_empty_cache();                         // frees cached idle blocks; returns bytes freed

}  // namespace deepcore::cpu
