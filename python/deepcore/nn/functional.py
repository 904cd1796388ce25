"""deepcore.nn.functional: the stateless side of nn, as torch.nn.functional::

    import deepcore.nn.functional as F
    loss = F.nll_loss(F.log_softmax(model(x), dim=1), target)

Each function is an op of deepcore.ops under PyTorch's name and signature; the ops check their
arguments (ops/_checks.py), so this module holds no checks of its own.
"""
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax, write_in_place as _write_in_place
from ..ops.activation import (  # noqa: F401
    celu, celu_, elu, elu_, gelu, hardsigmoid, hardswish, hardtanh, hardtanh_, logsigmoid, mish, prelu, relu6, selu,
    selu_, silu, softmin, softplus, softsign, threshold, threshold_,
)
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold  # noqa: F401
from ..ops.dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout  # noqa: F401
from ..ops.elementwise import leaky_relu as _leaky_relu
from ..ops.index import embedding, one_hot  # noqa: F401
from ..ops.linear import linear as _fused_linear
from ..ops.loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss, mse_loss,
    nll_loss, smooth_l1_loss,
)
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
# torch's private mask helpers, which custom Transformer layers copied from torch's source call
from ..ops.attention import canonical_mask as _canonical_mask, none_or_dtype as _none_or_dtype  # noqa: F401
from ..ops.normalization import (  # noqa: F401
    batch_norm, cosine_similarity, group_norm, instance_norm, layer_norm, local_response_norm, normalize,
    pairwise_distance, rms_norm,
)
from ..ops.pool import avg_pool2d, interpolate, max_pool2d, upsample, upsample_nearest  # noqa: F401
from ..ops.pool import (  # noqa: F401
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, max_pool1d,
)
from ..ops.padding import pad  # noqa: F401
from ..ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.shape import flatten as _flatten


def linear(input, weight, bias=None):
    """input @ weight.T + bias, weight of shape (out_features, in_features): one native call, the bias
    fused into the GEMM, which reads weight transposed (no copy)."""
    return _fused_linear(input, weight, bias)


# ---- activations -------------------------------------------------------------------------
# inplace=True writes the result into input (ops/activation.py's write_in_place), as PyTorch does.

def relu(input, inplace=False):
    return _write_in_place("relu", input, lambda x: x.relu()) if inplace else input.relu()


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _write_in_place("leaky_relu", input, lambda x: _leaky_relu(x, negative_slope))
    return _leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


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
