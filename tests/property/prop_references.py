"""float64 NumPy references of the nn layers the property suite checks (convolution, pooling, the
normalizations, the recurrent cells) and the weight copy that runs the same layer in torch.

Written from the layers' definitions (PyTorch's documented formulas), loop by kernel tap or by
output position: slow but small inputs only, and plain enough to trust."""
import numpy as np


def conv2d(x, w, b, stride, padding, dilation, groups):
    """x (N, C, H, W), w (O, C / groups, kh, kw): cross-correlation, zero padding."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh, j * dw: j * dw + sw * (wo - 1) + 1: sw]
            for g in range(groups):
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch[:, g * cg:(g + 1) * cg],
                                                         w[g * og:(g + 1) * og, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def pool_out_size(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size (ceil mode drops a last window that starts in the right padding)."""
    out = (length + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def _windows(length, k, s, p, d, ceil_mode):
    """Per output position: (indices inside the input, the window's size counting the padding)."""
    out = []
    for o in range(pool_out_size(length, k, s, p, d, ceil_mode)):
        start = o * s - p
        taps = [start + t * d for t in range(k)]
        padded_size = min(start + k, length + p) - start   # avg_pool's count_include_pad divisor
        out.append(([t for t in taps if 0 <= t < length], padded_size))
    return out


def max_pool2d(x, k, s, p, d, ceil_mode):
    """x (N, C, H, W); NaN propagates (a NaN in a window is its max)."""
    rows, cols = _windows(x.shape[2], k[0], s[0], p[0], d[0], ceil_mode), _windows(x.shape[3], k[1], s[1], p[1],
                                                                                 d[1], ceil_mode)
    out = np.empty(x.shape[:2] + (len(rows), len(cols)))
    for i, (ri, _) in enumerate(rows):
        for j, (cj, _) in enumerate(cols):
            out[:, :, i, j] = np.max(x[:, :, ri][:, :, :, cj], axis=(2, 3))
    return out


def avg_pool2d(x, k, s, p, ceil_mode, count_include_pad):
    rows = _windows(x.shape[2], k[0], s[0], p[0], 1, ceil_mode)
    cols = _windows(x.shape[3], k[1], s[1], p[1], 1, ceil_mode)
    out = np.empty(x.shape[:2] + (len(rows), len(cols)))
    for i, (ri, rsize) in enumerate(rows):
        for j, (cj, csize) in enumerate(cols):
            total = np.sum(x[:, :, ri][:, :, :, cj], axis=(2, 3))
            out[:, :, i, j] = total / (rsize * csize if count_include_pad else len(ri) * len(cj))
    return out


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, new running mean, new running var): batch statistics over all dims but 1 when training."""
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        count = x.size // x.shape[1]
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * count / (count - 1)
    else:
        mean, var, new_mean, new_var = running_mean, running_var, running_mean, running_var
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape) + bias.reshape(shape)
    return y, new_mean, new_var


def layer_norm(x, normalized_ndim, weight, bias, eps):
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return y * weight + bias if weight is not None else y


# ---- recurrent cells (PyTorch's gate order and formulas) ----------------------------------------

def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def rnn_step(kind, x, h, c, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One step of RNN (h' = act(W_ih x + b_ih + W_hh h + b_hh)), LSTM (gates i, f, g, o) or GRU
    (gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""
    gi = x @ w_ih.T + (b_ih if b_ih is not None else 0)
    gh = h @ w_hh.T + (b_hh if b_hh is not None else 0)
    if kind == "RNN":
        z = gi + gh
        return (np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)), None
    if kind == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c2 = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c2), c2
    ir, iz, in_ = np.split(gi, 3, axis=-1)
    hr, hz, hn = np.split(gh, 3, axis=-1)
    r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h, None


def copy_weights(dc_module, torch_module):
    """Give the torch twin the deepcore layer's parameters and buffers (matched by state_dict name)."""
    import torch
    theirs = torch_module.state_dict()
    for name, value in dc_module.state_dict().items():
        assert name in theirs, f"{type(dc_module).__name__}: torch has no {name} (torch: {sorted(theirs)})"
        theirs[name].copy_(torch.from_numpy(np.array(value.numpy())))
