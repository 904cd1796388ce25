// A 64-byte aligned scratch buffer that only grows: kept thread_local by the
// kernels that pack or unfold data, so steady-state calls never allocate.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace deepcore {

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() { std::free(data_); }

  // Room for `count` elements of T (at least one); nullptr if the allocation failed.
  template <class T>
  T* get(int64_t count) {
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T);
    if (bytes > capacity_) {
      std::free(data_);
      capacity_ = (bytes + 4095) & ~size_t(4095);
      data_ = std::aligned_alloc(64, capacity_);
      if (!data_) capacity_ = 0;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace deepcore
