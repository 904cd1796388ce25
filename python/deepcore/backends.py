"""What the CPU engine runs on: ``deepcore.backends.cpu.capability`` is the
kernel level chosen from cpuid ('avx512', 'avx2' or 'portable');
``set_capability`` lowers it (e.g. to compare paths). DEEPCORE_CPU_CAPABILITY
sets it at import."""
from . import _C


class _Cpu:
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

    @property
    def has_openmp(self):
        return _C.has_openmp

    def __repr__(self):
        return f"<deepcore CPU backend: capability={self.capability}, gemm={self.gemm_kernel}, vec_math={self.vec_math}>"


cpu = _Cpu()
