// deepcore._C_cuda: the CUDA engine's Python bindings. This file is the module
// itself: the import of deepcore._C, error translation and the device queries.
// Each kernel family binds its functions in cuda_<family>.cpp, named like the
// .cu file it binds (cuda_families.h).
//
// NDArray, DType, UnaryOp and BinaryOp are registered by deepcore._C; this
// module imports it first, so the types it takes and returns are the same
// Python types (both modules share pybind11's internals). Importing this
// module does not touch the CUDA driver: the first CUDA call does.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/cuda_families.h"
#include "common/ndarray.h"
#include "cuda/memory.h"

namespace py = pybind11;
using namespace deepcore;

// The same bindings make deepcore._C_cuda (nvcc) and deepcore._C_cuda_emu (the .cu sources on
// the host launch emulator, csrc/cuda/emulator/); CMake names the module.
#ifndef DEEPCORE_CUDA_MODULE
#define DEEPCORE_CUDA_MODULE _C_cuda
#endif

#ifdef DEEPCORE_CUDA_EMU_MODULE
namespace deepcore::cuda_emu {
double self_test_block_sum(const NDArray& device_array);  // cuda/emulator/self_test.cu
void self_test_fault(const std::string& kind);
}
#endif

PYBIND11_MODULE(DEEPCORE_CUDA_MODULE, m) {
  // Registers NDArray, the enums and the exception translators.
  py::module_::import("deepcore._C");

  m.doc() = "deepcore CUDA engine (memory, host<->device copies, elementwise ops, reductions, activations, "
            "losses, matmul, optimizer updates, pooling, conv2d, dropout)";

  // Also translate here, so that errors keep their Python type even if the
  // CPU module's translators change.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const deepcore::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const deepcore::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const cuda::CudaError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def(
      "device_count",
      []() {
        py::gil_scoped_release nogil;
        return cuda::device_count();
      },
      "Number of CUDA devices; 0 when there is no driver or GPU.");

  m.def(
      "synchronize",
      []() {
        py::gil_scoped_release nogil;
        cuda::synchronize();
      },
      "Waits for all queued work on every CUDA device.");

  m.def(
      "device_name",
      [](int index) {
        py::gil_scoped_release nogil;
        return cuda::device_name(index);
      },
      py::arg("index") = 0);

  bindings::cuda_module::bind_memory(m);
  bindings::cuda_module::bind_elementwise(m);
  bindings::cuda_module::bind_reduce(m);
  bindings::cuda_module::bind_activation(m);
  bindings::cuda_module::bind_loss(m);
  bindings::cuda_module::bind_matmul(m);
  bindings::cuda_module::bind_optim(m);
  bindings::cuda_module::bind_pool(m);
  bindings::cuda_module::bind_conv(m);
  bindings::cuda_module::bind_dropout(m);
  bindings::cuda_module::bind_recurrent(m);
#ifndef DEEPCORE_CUDA_EMU_MODULE
  bindings::cuda_module::bind_nccl(m);  // NCCL is a library on the GPU's side: nothing to emulate
#endif

#ifdef DEEPCORE_CUDA_EMU_MODULE
  m.attr("is_emulator") = true;
  m.def(
      "emulator_self_test_sum",
      [](const NDArray& a) {
        py::gil_scoped_release nogil;
        return cuda_emu::self_test_block_sum(a);
      },
      py::arg("a"),
      "Sum of a float32 CUDA array by a kernel that uses __shared__ memory, __syncthreads, "
      "__shfl_down_sync and atomicAdd: a test of the launch emulator itself.");
  m.def(
      "emulator_self_test_fault",
      [](const std::string& kind) {
        py::gil_scoped_release nogil;
        cuda_emu::self_test_fault(kind);
      },
      py::arg("kind"),
      "Launches a kernel with a bug the emulator must report as a RuntimeError naming the kernel: "
      "'config' (2048 threads per block), 'deadlock' (threads at different barriers), "
      "'exited_lane' (a shuffle mask naming a returned lane), 'lane_not_in_mask'.");
#else
  m.attr("is_emulator") = false;
#endif
}
