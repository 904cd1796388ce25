"""What the CPU engine runs on: ``deepcore.backends.cpu.capability`` is the
kernel level chosen from cpuid ('avx512', 'avx2' or 'portable');
``set_capability`` lowers it (e.g. to compare paths). DEEPCORE_CPU_CAPABILITY
sets it at import.

The flags PyTorch scripts set (``torch.backends.cudnn.benchmark = True``,
``torch.backends.mps.is_available()``) exist with PyTorch's defaults. deepcore has no cuDNN and no
MPS: cudnn and mps report unavailable, and their flags are recorded but change no kernel."""
import sys
import types

from . import _C


class _Submodule(types.ModuleType):
    """A flag namespace that is also an importable module, as in torch: `import torch.backends.cudnn
    as cudnn` must find it in sys.modules."""

    def __init__(self, name, doc=None):
        super().__init__(f"{__name__}.{name}", doc or type(self).__doc__)
        sys.modules[self.__name__] = self


class _Cpu(_Submodule):
    """torch.backends.cpu: the kernel level chosen from cpuid."""

    @property
    def capability(self):
        return _C.cpu_capability()

    @property
    def supported(self):
        return _C.cpu_capability_supported()

    def set_capability(self, name):
        _C.set_cpu_capability(name)

    @property
    def gemm_kernel(self):
        return _C.gemm_kernel_name()

    @property
    def vec_math(self):
        """Which table of vectorized elementwise/activation kernels runs."""
        return _C.vec_math_name()

    def get_cpu_capability(self):
        """PyTorch's spelling of the kernel level: 'AVX512', 'AVX2' or 'DEFAULT'."""
        return {"avx512": "AVX512", "avx2": "AVX2"}.get(self.capability, "DEFAULT")

    @property
    def has_openmp(self):
        return _C.has_openmp

    def __repr__(self):
        return f"<deepcore CPU backend: capability={self.capability}, gemm={self.gemm_kernel}, vec_math={self.vec_math}>"


cpu = _Cpu("cpu")


class _Cudnn(_Submodule):
    """torch.backends.cudnn: deepcore's CUDA kernels are its own, so cuDNN is never available."""

    def __init__(self):
        super().__init__("cudnn")
        self.enabled = True
        self.benchmark = False       # PyTorch's autotuner flag: deepcore's kernels have one algorithm each
        self.deterministic = False
        self.allow_tf32 = True

    def is_available(self):
        return False

    def version(self):
        return None

    def __repr__(self):
        return (f"<deepcore backends.cudnn: unavailable (benchmark={self.benchmark}, "
                f"deterministic={self.deterministic})>")


class _Mps(_Submodule):
    """torch.backends.mps: Apple's Metal backend, which deepcore does not have."""

    def is_available(self):
        return False

    def is_built(self):
        return False


class _CudaMatmul:
    def __init__(self):
        self.allow_tf32 = False      # deepcore's GEMMs are float32 throughout (no TF32 path is taken)
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


class _Cuda(_Submodule):
    """torch.backends.cuda: the matmul precision flags."""

    def __init__(self):
        super().__init__("cuda")
        self.matmul = _CudaMatmul()

    def is_built(self):
        from . import cuda
        return cuda.is_built()


# A package with no directory: its submodules are the objects above, already in sys.modules.
__path__: list = []

cudnn = _Cudnn()
mps = _Mps("mps")
cuda = _Cuda()
