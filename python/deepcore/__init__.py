"""deepcore: a deep-learning framework on its own readable C++/CUDA engine.

PyTorch-style tensors with reverse-mode autograd::

    import deepcore as torch
    x = torch.randn(64, 3)
    w = torch.randn(3, 4, requires_grad=True)
    loss = x.mm(w).tanh().pow(2).sum()
    loss.backward()
"""
from . import _C
from .tensor import (
    Size, Tensor, arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like,
    tensor, zeros, zeros_like,
)
from .ops.random import (
    get_rng_state, manual_seed, rand, rand_like, randint, randn, randn_like, randperm, seed, set_rng_state,
)
from .dtypes import bool_ as bool, dtype, float32, float64, int64  # noqa: A001
from .device import device
from . import autograd
from .autograd import enable_grad, no_grad, set_grad_enabled, is_grad_enabled
from . import cuda
from . import _tensor_methods
from ._tensor_methods import add, sub, mul, div, pow, maximum, minimum  # noqa: A001
from .ops.elementwise import clamp, leaky_relu, where
from .ops.reduce import sum, mean, max, min, amax, amin, argmax, argmin  # noqa: A001
from .ops.shape import cat, chunk, split, stack, reshape, permute, transpose, flatten, squeeze, unbind, unsqueeze
from .ops.matmul import matmul, mm
from .ops.activation import softmax, log_softmax
from .ops.index import index_select

_tensor_methods.install()

float = float32  # noqa: A001
double = float64
long = int64
clip = clamp

__version__ = "0.1.0"


def _unary(name):
    def fn(x):
        return getattr(x, name)()
    fn.__name__ = name
    return fn


exp, log, sqrt, abs, tanh, sigmoid, relu, neg, sign, square = (  # noqa: A001
    _unary(n) for n in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "sign", "square"))


def is_tensor(x):
    return isinstance(x, Tensor)


def numel(x):
    return x.numel()


def get_num_threads():
    """Threads the CPU kernels use (all cores by default; DEEPCORE_NUM_THREADS overrides)."""
    return _C.get_num_threads()


def set_num_threads(n):
    if int(n) < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n}")
    _C.set_num_threads(int(n))


from . import backends  # noqa: E402
from . import nn, optim, data, utils  # noqa: E402
from . import io  # noqa: E402
from .io import save, load  # noqa: E402
from . import keras  # noqa: E402
