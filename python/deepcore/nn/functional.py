"""deepcore.nn.functional: the stateless side of nn, as torch.nn.functional::

    import deepcore.nn.functional as F
    loss = F.nll_loss(F.log_softmax(model(x), dim=1), target)

Each function is an op of deepcore.ops under PyTorch's name and signature; the ops check their
arguments (ops/_checks.py), so this module holds no checks of its own.
"""
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.conv import conv2d, conv_transpose2d  # noqa: F401
from ..ops.dropout import dropout  # noqa: F401
from ..ops.elementwise import leaky_relu as _leaky_relu
from ..ops.index import embedding, one_hot  # noqa: F401
from ..ops.linear import linear as _fused_linear
from ..ops.loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, mse_loss,
    nll_loss, smooth_l1_loss,
)
from ..ops.normalization import batch_norm  # noqa: F401
from ..ops.pool import avg_pool2d, interpolate, max_pool2d, upsample, upsample_nearest  # noqa: F401
from ..ops.shape import flatten as _flatten


def linear(input, weight, bias=None):
    """input @ weight.T + bias, weight of shape (out_features, in_features): one native call, the bias
    fused into the GEMM, which reads weight transposed (no copy)."""
    return _fused_linear(input, weight, bias)


# ---- activations -------------------------------------------------------------------------
# inplace=True is accepted for PyTorch compatibility; the result is computed out of place.

def relu(input, inplace=False):
    return input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _leaky_relu(input, negative_slope)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax over `dim`; without dim, PyTorch's legacy choice (dim 0 for 0/1/3-D input, else 1) with a warning."""
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)), computed stably; implicit dim as in softmax."""
    if dtype is not None:
        input = input.to(dtype)
    return _log_softmax(input, dim)


def flatten(input, start_dim=0, end_dim=-1):
    return _flatten(input, start_dim, end_dim)
