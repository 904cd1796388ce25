"""Attention: scaled dot-product attention as one autograd node, and multi-head attention (the
computation behind nn.MultiheadAttention and the Transformer layers), composed of the native matmul,
softmax, dropout and linear kernels.

    out = dropout(softmax(q @ k^T * scale + bias)) @ v

`ScaledDotProductAttention` runs the five steps in forward and writes their derivative in closed form
(two matmuls per operand, the native softmax backward); autograd through the composite would build
five nodes and keep the same tensors alive. Masks become one additive float `bias` that broadcasts over
the batch and head dims: a bool mask of scaled_dot_product_attention is True where a query may attend
(-inf elsewhere); a bool mask of multi-head attention is True where it may NOT (PyTorch's two
conventions).
"""
import math
import numbers
import warnings

from ..autograd import Function
from ..tensor import Tensor, arange, full
from ._checks import check_float_tensor, check_tensor
from .elementwise import where
from .linear import linear
from .normalization import broadcast_shapes
from .reduce import sum_to
from .shape import cat, split

_NEG_INF = float("-inf")


class ScaledDotProductAttention(Function):
    """softmax(q k^T * scale + bias) (dropped out) @ v over the last two dims; batch dims broadcast.
    safe_softmax: a row whose every score is -inf gives zeros (PyTorch's SDPA), not NaN (its
    need_weights path). return_weights: also return the (dropped-out) attention weights."""

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, dropout_p, safe_softmax, return_weights):
        s = q @ k.transpose(-1, -2)
        s.mul_(scale)  # s is this call's own buffer: scale it in place
        if bias is not None:
            s = s.add_(bias) if broadcast_shapes("attention", tuple(s.shape), tuple(bias.shape)) == tuple(s.shape) \
                else s + bias
        p = s.softmax(-1)
        if safe_softmax and bias is not None and p._backend.has_nonfinite(p._data):
            p = where(s.amax(-1, keepdim=True) == _NEG_INF, 0.0, p)
        mask = None
        weights = p
        if dropout_p > 0.0:
            dropped, mask_nd = p._backend.dropout(p._data, dropout_p)
            weights, mask = Tensor._make(dropped), Tensor._make(mask_nd)
        out = weights @ v
        ctx.save_for_backward(q, k, v, p, weights, mask)
        ctx.meta = scale, dropout_p, None if bias is None else tuple(bias.shape)
        return (out, weights) if return_weights else out

    @staticmethod
    def backward(ctx, g, g_weights=None):
        q, k, v, p, weights, mask = ctx.saved_tensors
        scale, dropout_p, bias_shape = ctx.meta
        need = ctx.needs_input_grad
        gq = gk = gv = gbias = None
        if need[2]:
            gv = sum_to(weights.transpose(-1, -2) @ g, tuple(v.shape))
        if need[0] or need[1] or need[3]:
            gw = g @ v.transpose(-1, -2)
            if g_weights is not None:
                gw = gw + g_weights
            if mask is not None:
                gw = Tensor._make(gw._backend.dropout_backward(gw._data, mask._data, dropout_p))
            gs = Tensor._make(gw._backend.softmax_backward(gw._data, p._data, p.ndim - 1))
            if need[3]:
                gbias = sum_to(gs, bias_shape)
            # gs is a fresh buffer: scaled in place unless the bias' gradient is gs itself
            gs = gs * scale if gbias is gs else gs.mul_(scale)
            if need[0]:
                gq = sum_to(gs @ k, tuple(q.shape))
            if need[1]:
                gk = sum_to(gs.transpose(-1, -2) @ q, tuple(k.shape))
        return gq, gk, gv, gbias, None, None, None, None


def _scalar(value, like):
    return full((), value, dtype=like.dtype, device=like.device)


def _causal_bias(L, S, like):
    """(L, S): 0 where key j <= query i, -inf above that diagonal (top-left aligned, as torch's tril)."""
    allowed = arange(S, device=like.device).reshape(1, S) <= arange(L, device=like.device).reshape(L, 1)
    return where(allowed, _scalar(0.0, like), _NEG_INF)


def _check_dropout(op, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise RuntimeError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, dropout on the weights (always applied when
    dropout_p > 0, as torch). query (..., L, E), key (..., S, E), value (..., S, Ev); batch dims
    broadcast. attn_mask: bool (True = may attend) or float (added), broadcastable to (..., L, S).
    is_causal: query i sees keys 0..i (top-left aligned when L != S). scale: default 1/sqrt(E).
    enable_gqa: key/value heads (dim -3) are shared by groups of query heads."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_float_tensor(op, name, t)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: Expected query, key, and value to all be at least 2 dimensional, but got "
                           f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not query.dtype is key.dtype is value.dtype:
        raise RuntimeError(f"{op}: Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype.name} key.dtype: {key.dtype.name} and value.dtype: {value.dtype.name} "
                           f"instead.")
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} do not fit: key needs query's last dim and value's number of rows")
    _check_dropout(op, dropout_p)
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa:
        key, value = _share_kv_heads(op, query, key, value)
    batch = broadcast_shapes(op, tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
    L, S = query.shape[-2], key.shape[-2]
    bias = None
    if is_causal:
        bias = _causal_bias(L, S, query)
    elif attn_mask is not None:
        check_tensor(op, "attn_mask", attn_mask)
        if attn_mask.dtype.name == "bool":
            bias = where(attn_mask, _scalar(0.0, query), _NEG_INF)
        elif attn_mask.dtype is query.dtype:
            bias = attn_mask
        else:
            raise RuntimeError(f"{op}: Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {attn_mask.dtype.name} and query.dtype: {query.dtype.name} instead.")
        scores = batch + (L, S)
        if broadcast_shapes(op, scores, tuple(attn_mask.shape)) != scores:
            raise RuntimeError(f"{op}: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
                               f"attention scores' shape {scores}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, bias, scale, float(dropout_p), True, False)


def _share_kv_heads(op, query, key, value):
    """Grouped-query attention: each key/value head serves query.shape[-3] // key.shape[-3] consecutive
    query heads (torch's repeat_interleave over dim -3), as a broadcast view copied once."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise RuntimeError(f"{op}: enable_gqa needs a head dim (-3) in query, key and value")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError(f"{op}: Number of heads in key and value must divide the number of heads in query "
                           f"(query {hq}, key {hk}, value {hv})")

    def repeat(t, h):
        if h == hq:
            return t
        shape = tuple(t.shape)
        wide = t.unsqueeze(-3).expand(shape[:-2] + (hq // h,) + shape[-2:])
        return wide.reshape(shape[:-3] + (hq,) + shape[-2:])
    return repeat(key, hk), repeat(value, hv)


# ---- multi-head attention ----------------------------------------------------------------------

def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A multi-head attention mask as an additive float mask: bool True (= may not attend) -> -inf,
    False -> 0; float masks pass. Warns, as torch, when it and the other mask differ in type."""
    if mask is None:
        return None
    check_tensor("multi_head_attention_forward", mask_name, mask)
    is_bool = mask.dtype.name == "bool"
    if not is_bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      f"instead.", stacklevel=3)
    if is_bool:
        zero = full((), 0.0, dtype=target_type, device=mask.device)
        return where(mask, _NEG_INF, zero)
    return mask


def none_or_dtype(t):
    return None if t is None else t.dtype


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (3-D) input, False for unbatched (2-D); AssertionError otherwise (torch's)."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                         f"tensor")


def _in_projection(query, key, value, E, in_proj_weight, in_proj_bias, separate, shared):
    """q, k, v projections. Packed weights: self-attention is one GEMM on the stacked (3E, E) weight;
    the pieces are views of its output (and of the weight: one Split node, whose backward joins)."""
    biases = (None, None, None) if in_proj_bias is None else split(in_proj_bias, E)
    if separate is not None:
        return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), separate, biases))
    if shared == "qkv":
        return split(linear(query, in_proj_weight, in_proj_bias), E, -1)
    if shared == "kv":
        w_q, w_kv = split(in_proj_weight, [E, 2 * E])
        b_q, b_kv = (None, None) if in_proj_bias is None else split(in_proj_bias, [E, 2 * E])
        k, v = split(linear(key, w_kv, b_kv), E, -1)
        return linear(query, w_q, b_q), k, v
    weights = split(in_proj_weight, E)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _pad_last(mask):
    """One more key column (0: nothing masked), for the bias_k / zero-attention key."""
    zero = full(tuple(mask.shape[:-1]) + (1,), 0.0, dtype=mask.dtype, device=mask.device)
    return cat([mask, zero], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: query (L, N, E) or (L, E), key/value (S, N, *)."""
    return multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                                key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                                k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal)


def multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                         bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
                         key_padding_mask=None, need_weights=True, attn_mask=None, use_separate_proj_weight=False,
                         q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
                         average_attn_weights=True, is_causal=False, batch_first=False):
    """multi_head_attention_forward with batch_first: batched (N, L, E) inputs are read in their own
    layout (the projections and head views follow it), so no transposed copy is made."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_float_tensor("multi_head_attention_forward", name, t)
    is_batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    # Which inputs are one tensor (self-attention: one projection GEMM), before unsqueeze makes new ones.
    shared = "qkv" if query is key and key is value else ("kv" if key is value else "")
    if not is_batched:
        query, key, value = (x.unsqueeze(1) for x in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False
    seq_dim = 1 if batch_first else 0
    tgt_len, src_len = query.shape[seq_dim], key.shape[seq_dim]
    bsz, embed_dim = query.shape[1 - seq_dim], query.shape[2]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", none_or_dtype(attn_mask), "attn_mask",
                                      query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask, as in torch: the causal mask is built below
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        is_causal = False if key_padding_mask is not None else is_causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        for name, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                        ("v_proj_weight", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        separate = None
    q, k, v = _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate, shared)

    if attn_mask is not None:
        expected = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if attn_mask.ndim not in (2, 3):
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is {tuple(attn_mask.shape)}, but should "
                               f"be {expected}.")
        if attn_mask.dtype is not query.dtype:
            attn_mask = attn_mask.to(query.dtype)
    if (bias_k is None) != (bias_v is None):
        raise AssertionError(f"{'bias_k' if bias_v is None else 'bias_v'} is set but "
                             f"{'bias_v' if bias_v is None else 'bias_k'} is None")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError(f"bias cannot be added to static {'key' if static_k is not None else 'value'}.")
        row = (bsz, 1, embed_dim) if batch_first else (1, bsz, embed_dim)
        k = cat([k, bias_k.expand(row)], seq_dim)
        v = cat([v, bias_v.expand(row)], seq_dim)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)

    # Heads: (seq, batch, E) or (batch, seq, E) -> (batch, heads, seq, head_dim), views of the projections.
    to_heads = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)

    def heads(x):
        return x.reshape(tuple(x.shape[:2]) + (num_heads, head_dim)).permute(*to_heads)
    q = heads(q)
    k = heads(k) if static_k is None else _static("static_k", static_k, bsz, num_heads, head_dim)
    v = heads(v) if static_v is None else _static("static_v", static_v, bsz, num_heads, head_dim)
    if add_zero_attn:
        k = cat([k, full(tuple(k.shape[:2]) + (1, head_dim), 0.0, dtype=k.dtype, device=k.device)], 2)
        v = cat([v, full(tuple(v.shape[:2]) + (1, head_dim), 0.0, dtype=v.dtype, device=v.device)], 2)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[2]

    bias = None
    if attn_mask is not None:  # (L, S) broadcasts; (N * heads, L, S) is read as (N, heads, L, S)
        bias = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            which, want, got = ((0, bsz, key_padding_mask.shape[0]) if key_padding_mask.shape[0] != bsz else
                                (1, src_len, key_padding_mask.shape[-1]))
            raise AssertionError(f"Expected key_padded_mask.shape[{which}] to be {want}, but got {got}")
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        bias = padding if bias is None else bias + padding
    if is_causal and bias is None:
        bias = _causal_bias(tgt_len, src_len, q)
    if not training:
        dropout_p = 0.0
    _check_dropout("multi_head_attention_forward", dropout_p)
    scale = 1.0 / math.sqrt(head_dim)
    result = ScaledDotProductAttention.apply(q, k, v, bias, scale, float(dropout_p), not need_weights, need_weights)
    out, weights = result if need_weights else (result, None)

    # (batch, heads, L, head_dim) -> the input's layout, one copy, then the output projection.
    from_heads = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)
    out = out.permute(*from_heads).reshape(-1, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape((bsz, tgt_len, embed_dim) if batch_first else (tgt_len, bsz, embed_dim))
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not is_batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _static(name, t, bsz, num_heads, head_dim):
    if t.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {t.shape[0]}")
    if t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}")
    return t.reshape(bsz, num_heads, t.shape[1], head_dim)
