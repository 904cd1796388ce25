// The CUDA launch emulator's runtime: fibers, the block scheduler and the runtime API
// (see emulator.h for what it models).
#include "cuda/emulator/emulator.h"

#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace deepcore::cuda_emu {

thread_local const ThreadVars* t_vars = nullptr;

namespace {

// The last error of this CPU thread (the runtime's is per host thread too) and the
// emulator's explanation of it, appended to cudaGetErrorString.
thread_local cudaError_t t_last_error = cudaSuccess;
std::mutex g_detail_mu;
std::string g_detail;

cudaError_t fail(cudaError_t err, const std::string& detail) {
  t_last_error = err;
  std::lock_guard<std::mutex> lock(g_detail_mu);
  g_detail = detail;
  return err;
}

// 64 KiB per fiber: kernels keep a few hundred bytes of locals (an Indexer is ~0.3 KB).
constexpr size_t kStackBytes = 64 * 1024;
constexpr int kMaxThreadsPerBlock = 1024;

enum class State { Runnable, AtBlockBarrier, AtWarpBarrier, Done };

struct Fiber {
  ucontext_t context;
  State state = State::Runnable;
  unsigned warp_mask = 0;  // at a warp barrier: the lanes it waits for
  ThreadVars vars;
};

// Runs the blocks given to one CPU thread, one at a time; its fibers and stacks are reused.
class BlockRunner {
 public:
  // Returns false (with the error set) when the block failed.
  bool run(const std::function<void()>& body, dim3 grid, dim3 block, uint3 block_idx) {
    const int n = static_cast<int>(block.x * block.y * block.z);
    if (static_cast<int>(fibers_.size()) < n) {
      fibers_.resize(n);
      while (static_cast<int>(stacks_.size()) < n) stacks_.emplace_back(new char[kStackBytes]);
    }
    body_ = &body;
    failure_.clear();
    slots_.assign((n + 31) / 32 * 32, 0);
    for (int i = 0; i < n; ++i) {
      Fiber& f = fibers_[i];
      f.state = State::Runnable;
      f.vars.thread_idx = {i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
      f.vars.block_idx = block_idx;
      f.vars.block_dim = block;
      f.vars.grid_dim = grid;
      f.vars.lane = i % 32;
      getcontext(&f.context);
      f.context.uc_stack.ss_sp = stacks_[i].get();
      f.context.uc_stack.ss_size = kStackBytes;
      f.context.uc_link = &scheduler_;  // a finished thread returns to the scheduler
      makecontext(&f.context, &BlockRunner::fiber_main, 0);
    }
    const BlockRunner* previous = t_runner;
    t_runner = this;
    schedule(n);
    t_runner = const_cast<BlockRunner*>(previous);
    t_vars = nullptr;
    if (!failure_.empty()) {
      fail(cudaErrorLaunchFailure, "block (" + std::to_string(block_idx.x) + ", " + std::to_string(block_idx.y) +
                                       ", " + std::to_string(block_idx.z) + "): " + failure_);
      return false;
    }
    return true;
  }

  // Called by the running fiber: parks it in `state` until the scheduler releases it.
  static void park(State state, unsigned warp_mask = 0) {
    BlockRunner* r = t_runner;
    Fiber& f = r->fibers_[r->current_];
    f.state = state;
    f.warp_mask = warp_mask;
    swapcontext(&f.context, &r->scheduler_);
    t_vars = &f.vars;
  }

  static BlockRunner& running(const char* what) {
    if (!t_runner) {
      std::fprintf(stderr, "deepcore CUDA emulator: %s called outside a kernel\n", what);
      std::abort();
    }
    return *t_runner;
  }

  uint64_t* slots() { return slots_.data(); }
  int current_lane_base() const { return current_ / 32 * 32; }

 private:
  static void fiber_main() {
    BlockRunner* r = t_runner;
    Fiber& f = r->fibers_[r->current_];
    t_vars = &f.vars;
    try {
      (*r->body_)();
    } catch (const std::exception& e) {
      if (r->failure_.empty()) r->failure_ = std::string("a kernel thread threw: ") + e.what();
    } catch (...) {
      if (r->failure_.empty()) r->failure_ = "a kernel thread threw";
    }
    // Re-read: the fiber may have been resumed after a barrier, but `f` is stable storage.
    f.state = State::Done;
  }

  // Round-robin over the runnable fibers. A warp barrier opens once every lane named in the
  // masks of the lanes waiting at it is there; the block barrier once every live thread is
  // (threads that have returned no longer count, as on the device). No progress is a deadlock.
  void schedule(int n) {
    for (;;) {
      bool ran = false;
      for (int i = 0; i < n; ++i) {
        if (fibers_[i].state != State::Runnable) continue;
        current_ = i;
        t_vars = &fibers_[i].vars;
        swapcontext(&scheduler_, &fibers_[i].context);
        ran = true;
      }
      int live = 0, at_block = 0;
      bool released = false;
      for (int w = 0; w < n; w += 32) {
        unsigned waiting = 0, named = 0;
        for (int i = w; i < std::min(n, w + 32); ++i) {
          const Fiber& f = fibers_[i];
          live += f.state != State::Done;
          at_block += f.state == State::AtBlockBarrier;
          if (f.state == State::AtWarpBarrier) {
            waiting |= 1u << (i - w);
            named |= f.warp_mask;
          }
        }
        if (!waiting) continue;
        for (int lane = 0; lane < 32; ++lane) {
          if (!(named >> lane & 1u)) continue;
          // A mask that names a lane the block does not have, or one that has returned, is
          // undefined behaviour on the device: report it instead of guessing.
          if (w + lane >= n || fibers_[w + lane].state == State::Done) {
            failure_ = "a warp function's mask names lane " + std::to_string(lane) + " of warp " +
                       std::to_string(w / 32) +
                       (w + lane >= n ? ", which the block does not have" : ", which has returned") + " (block of " +
                       std::to_string(n) + " threads)";
            return;
          }
        }
        if ((waiting & named) == named) {
          for (int i = w; i < std::min(n, w + 32); ++i)
            if (fibers_[i].state == State::AtWarpBarrier) fibers_[i].state = State::Runnable;
          released = true;
        }
      }
      if (live == 0) return;
      if (!released && at_block == live) {
        for (int i = 0; i < n; ++i)
          if (fibers_[i].state == State::AtBlockBarrier) fibers_[i].state = State::Runnable;
        released = true;
      }
      if (!ran && !released) {
        // Abandon the parked fibers: their contexts are rebuilt by the next launch.
        failure_ = "deadlock: threads of the block wait at different barriers (a __syncthreads or a "
                   "warp function that not every thread it waits for reaches)";
        return;
      }
    }
  }

  static thread_local BlockRunner* t_runner;
  std::vector<Fiber> fibers_;
  std::vector<std::unique_ptr<char[]>> stacks_;
  std::vector<uint64_t> slots_;  // one shuffle slot per thread
  ucontext_t scheduler_;
  int current_ = 0;
  const std::function<void()>* body_ = nullptr;
  std::string failure_;
};

thread_local BlockRunner* BlockRunner::t_runner = nullptr;

BlockRunner& runner_of_this_thread() {
  thread_local BlockRunner runner;
  return runner;
}

int worker_count() {
  static const int workers = [] {
    if (const char* env = std::getenv("DEEPCORE_CUDA_EMULATOR_THREADS")) {
      const int n = std::atoi(env);
      if (n >= 1) return n;
    }
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    return std::clamp(hw, 1, 4);
  }();
  return workers;
}

// Thrown inside the calling thread's fiber: the launch then fails with this message.
void check_mask(unsigned mask, const char* what) {
  const int lane = t_vars->lane;
  if (!(mask >> lane & 1u)) {
    char msg[128];
    std::snprintf(msg, sizeof(msg), "%s called by lane %d, which is not in its mask 0x%08x", what, lane, mask);
    throw std::logic_error(msg);
  }
}

}  // namespace

void sync_block() {
  BlockRunner::running("__syncthreads");
  BlockRunner::park(State::AtBlockBarrier);
}

void sync_warp(unsigned mask, const char* what) {
  BlockRunner::running(what);
  check_mask(mask, what);
  BlockRunner::park(State::AtWarpBarrier, mask);
}

// Publish, wait for the warp, read the source lane's value, wait again so that no lane
// overwrites its slot (in the next shuffle) before every lane has read it.
uint64_t warp_exchange(unsigned mask, uint64_t bits, int src_lane, const char* what) {
  BlockRunner& r = BlockRunner::running(what);
  check_mask(mask, what);
  uint64_t* warp_slots = r.slots() + r.current_lane_base();
  warp_slots[t_vars->lane] = bits;
  BlockRunner::park(State::AtWarpBarrier, mask);
  const uint64_t got = warp_slots[src_lane];
  BlockRunner::park(State::AtWarpBarrier, mask);
  return got;
}

void run_grid(dim3 grid, dim3 block, size_t dynamic_shared_bytes, const std::function<void()>& body) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  if (threads == 0 || threads > kMaxThreadsPerBlock || block.z > 64 || blocks == 0 || grid.y > 65535 ||
      grid.z > 65535 || grid.x > 0x7fffffffu) {
    fail(cudaErrorInvalidConfiguration, "grid (" + std::to_string(grid.x) + ", " + std::to_string(grid.y) + ", " +
                                            std::to_string(grid.z) + ") x block (" + std::to_string(block.x) +
                                            ", " + std::to_string(block.y) + ", " + std::to_string(block.z) + ")");
    return;
  }
  if (dynamic_shared_bytes != 0) {
    fail(cudaErrorInvalidValue, "dynamic shared memory is not supported by the emulator; use __shared__ arrays");
    return;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::string failure;  // the first failure, copied from the worker that saw it
  std::mutex failure_mu;
  auto work = [&] {
    BlockRunner& runner = runner_of_this_thread();
    for (uint64_t b; !failed.load() && (b = next.fetch_add(1)) < blocks;) {
      const uint3 idx{static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
                      static_cast<unsigned>(b / (uint64_t(grid.x) * grid.y))};
      if (!runner.run(body, grid, block, idx)) {
        std::lock_guard<std::mutex> lock(g_detail_mu);
        std::lock_guard<std::mutex> lock2(failure_mu);
        if (!failed.exchange(true)) failure = g_detail;
      }
    }
  };
  const int workers = static_cast<int>(std::min<uint64_t>(worker_count(), blocks));
  std::vector<std::thread> pool;
  for (int i = 1; i < workers; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failed.load()) fail(cudaErrorLaunchFailure, failure);
}

}  // namespace deepcore::cuda_emu

// ---- the runtime API ----------------------------------------------------------------------------

using deepcore::cuda_emu::fail;

namespace {
cudaError_t last_error() { return deepcore::cuda_emu::t_last_error; }
}  // namespace

namespace deepcore::cuda_emu {
namespace {
thread_local int t_device = 0;
}
}  // namespace deepcore::cuda_emu

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = deepcore::cuda_emu::t_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice, "the emulator has one device, 0");
  deepcore::cuda_emu::t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice, "the emulator has one device, 0");
  std::memset(prop, 0, sizeof(*prop));
  std::snprintf(prop->name, sizeof(prop->name), "deepcore CUDA emulator (host CPU)");
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->multiProcessorCount = deepcore::cuda_emu::worker_count();
  prop->major = 0;
  prop->minor = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }  // every launch has finished already
cudaError_t cudaGetLastError() {
  const cudaError_t err = last_error();
  deepcore::cuda_emu::t_last_error = cudaSuccess;
  return err;
}
cudaError_t cudaPeekAtLastError() { return last_error(); }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorCudartUnloading: return "cudaErrorCudartUnloading";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  const char* base = "unknown error";
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: base = "invalid argument"; break;
    case cudaErrorMemoryAllocation: base = "out of memory"; break;
    case cudaErrorCudartUnloading: base = "driver shutting down"; break;
    case cudaErrorInvalidConfiguration: base = "invalid configuration argument"; break;
    case cudaErrorNoDevice: base = "no CUDA-capable device is detected"; break;
    case cudaErrorInvalidDevice: base = "invalid device ordinal"; break;
    case cudaErrorLaunchFailure: base = "unspecified launch failure"; break;
  }
  // The string must outlive the call: keep one per CPU thread.
  thread_local std::string message;
  std::lock_guard<std::mutex> lock(deepcore::cuda_emu::g_detail_mu);
  message = std::string(base) + " [emulator: " + deepcore::cuda_emu::g_detail + "]";
  return message.c_str();
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  // 256-byte alignment, as cudaMalloc guarantees (vectorized loads rely on it).
  *ptr = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!*ptr) return fail(cudaErrorMemoryAllocation, "aligned_alloc of " + std::to_string(bytes) + " bytes");
  return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (bytes) std::memset(ptr, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

struct CUstream_st {};
struct CUevent_st {
  std::chrono::steady_clock::time_point when;
};
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = new CUstream_st();
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st();
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

// ---- device math ----------------------------------------------------------------------------------

// Inverse error function: Giles' single-precision approximation as the start, then Newton
// steps on erf(x) - y (erf' = 2/sqrt(pi) exp(-x^2)) to double precision.
double erfinv(double y) {
  if (std::isnan(y) || y < -1.0 || y > 1.0) return std::nan("");
  if (y == 1.0) return INFINITY;
  if (y == -1.0) return -INFINITY;
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
    x = p * y;
  }
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int i = 0; i < 3; ++i) {
    const double slope = two_over_sqrt_pi * std::exp(-x * x);
    if (slope == 0.0) break;
    x -= (std::erf(x) - y) / slope;
  }
  return x;
}
float erfinvf(float y) { return static_cast<float>(erfinv(static_cast<double>(y))); }
