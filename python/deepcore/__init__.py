"""deepcore: a deep-learning framework on its own readable C++/CUDA engine.

PyTorch-style tensors with reverse-mode autograd::

    import deepcore as torch
    x = torch.randn(64, 3)
    w = torch.randn(3, 4, requires_grad=True)
    loss = x.mm(w).tanh().pow(2).sum()
    loss.backward()
"""
import os as _os

# deepcore's OpenMP threads wait for work passively (sleep, not spin) unless the environment says
# otherwise: libgomp's default spin keeps idle threads busy for a while, and on a machine with more
# runnable threads than cores (a laptop with a browser open, CI, several training processes) the
# spinners take the cores from the threads with work. Measured on a shared 2-core Zen 4 (load ~4):
# the lecture MLP step 70-148 ms -> 5.5-8.8 ms, the LSTM step 245-367 ms -> 27-43 ms
# (docs/performance.md). libgomp reads the variable once, when _C loads it; it is put back at once,
# so libraries loaded later (torch's own OpenMP) keep their defaults.
_wait_policy_given = "OMP_WAIT_POLICY" in _os.environ or "GOMP_SPINCOUNT" in _os.environ
if not _wait_policy_given:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    from . import _C
finally:
    if not _wait_policy_given:
        del _os.environ["OMP_WAIT_POLICY"]
from .tensor import (
    Size, Tensor, arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like,
    tensor, zeros, zeros_like,
)
from .ops.random import (
    get_rng_state, manual_seed, rand, rand_like, randint, randn, randn_like, randperm, seed, set_rng_state,
)
from .generator import Generator, default_generator
from .dtypes import bool_ as bool, dtype, float32, float64, int64  # noqa: A001
from .device import device
from . import autograd
from .autograd import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from . import cuda
from . import _tensor_methods
from ._tensor_methods import add, sub, mul, div, pow, maximum, minimum  # noqa: A001
from .ops.elementwise import clamp, leaky_relu, masked_fill, tril, triu
from .ops.reduce import sum, mean, max, min, amax, amin, argmax, argmin  # noqa: A001
from .ops.shape import cat, cat as concat, cat as concatenate, chunk, split, stack, reshape, permute, transpose, flatten, squeeze, unbind, unsqueeze
from .ops.matmul import matmul, mm
from .ops.activation import celu, log_softmax, prelu, selu, softmax, threshold
from .ops.index import index_select
from .ops.index import (  # noqa: E402
    argwhere, count_nonzero, gather, index_fill, masked_select, nonzero, scatter, scatter_add, take, take_along_dim,
)
from .ops.scan import cumprod, cumsum, prod
from .ops.sort import argsort, kthvalue, median, msort, sort, topk, unique
from .ops.reduce import aminmax, logsumexp, all, any  # noqa: A001
from .ops.normalization import cdist, norm
from .ops.random import bernoulli, multinomial, normal
from .ops.shape import movedim, narrow, swapaxes, unflatten
from .ops.arrange import (
    diag, diag_embed, diagonal, flip, fliplr, flipud, repeat_interleave, roll, tensor_split, tile, trace,
)
from .ops.matmul import addmm, addmv, baddbmm, bmm, dot, einsum, mv, outer
from .ops.pointwise import (
    addcdiv, addcmul, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, clamp_min, clamp_max, equal,
    isclose, isfinite, isinf, isnan, isneginf, isposinf, lerp, logical_and, logical_not, logical_or, logical_xor,
    nan_to_num, reciprocal, rsqrt,
)
from ._torch_functions import (
    broadcast_shapes, broadcast_tensors, broadcast_to, eq, ge, greater, greater_equal, gt, is_floating_point, le,
    less, less_equal, lt, meshgrid, ne, not_equal, select, std, std_mean, t, var, var_mean,
)
from ._torch_math import (
    atleast_1d, atleast_2d, atleast_3d, bincount, block_diag, cartesian_prod, column_stack, corrcoef, cosh, cov, cross,
    deg2rad, diff, dstack, exp2, fix, frac, heaviside, hsplit, hstack, hypot, inner, kron, log2, log10, logaddexp,
    logcumsumexp, logit, nanmean, nansum, rad2deg, rot90, row_stack, sgn, sinc, sinh, tensordot, trunc, vsplit,
    vstack, xlogy,
)
from ._tensor_api import (
    BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, erf, erfinv, floor_divide, fmod, remainder, where,
)

_tensor_methods.install()

float = float32  # noqa: A001
double = float64
long = int64
clip = clamp
moveaxis, swapdims, ger = movedim, swapaxes, outer

__version__ = "0.1.0"


def _unary(name):
    def fn(x):
        return getattr(x, name)()
    fn.__name__ = name
    return fn


exp, log, sqrt, abs, tanh, sigmoid, relu, neg, sign, square, sin, cos, log1p, expm1, floor, ceil = (  # noqa: A001
    _unary(n) for n in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "sign", "square", "sin", "cos",
                        "log1p", "expm1", "floor", "ceil"))


def round(input, *, decimals=0):  # noqa: A001
    return input.round(decimals=decimals)


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


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False, **kwargs):
    """torch.compile, accepted: deepcore runs eagerly (each op is already one native kernel call), so
    the model or function comes back unchanged. Used as a decorator, with or without arguments."""
    if mode not in (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"):
        raise RuntimeError(f"compile: unrecognized mode={mode!r}")
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"compile: model must be callable, got {type(model).__name__}")
    return model


from . import backends, accelerator, onnx  # noqa: E402
from . import nn, optim, data, utils, distributions  # noqa: E402
from . import io, serialization  # noqa: E402
from .io import save, load  # noqa: E402
from . import determinism  # noqa: E402
from .determinism import (  # noqa: E402
    are_deterministic_algorithms_enabled, get_deterministic_debug_mode, is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode, use_deterministic_algorithms,
)
from . import keras  # noqa: E402
