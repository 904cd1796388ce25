"""The lecture's CNN layers at batch 128: conv2d and max pool, forward and backward.

Kernels are timed directly (deepcore._C vs torch.ops.aten), so each row is one
pass of one layer; the "fwd+bwd" rows go through autograd on both sides.
Baselines: NumPy im2col (sliding_window_view) + matmul for convs, reshape +
max for the pool, and PyTorch at the same thread count.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from harness import measure

import deepcore
from deepcore import _C
from deepcore.ops.conv import conv2d
from deepcore.ops.pool import max_pool2d

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

BATCH = 128
LAYERS = [  # name, in channels, out channels, input size (3x3 kernel, stride 1, no padding)
    ("conv 1->32", 1, 32, 28),
    ("conv 32->64", 32, 64, 26),
]


def np_im2col(x, k):
    """(N*OH*OW, C*k*k) patches, rows ordered like the NCHW output pixels."""
    n, c = x.shape[:2]
    win = sliding_window_view(x, (k, k), axis=(2, 3))  # N, C, OH, OW, k, k
    oh, ow = win.shape[2:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k), oh, ow


def np_conv_forward(x, w, b):
    cols, oh, ow = np_im2col(x, w.shape[2])
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(x.shape[0], oh, ow, -1).transpose(0, 3, 1, 2)


def np_conv_backward_input(g, w, x_shape):
    n, o, oh, ow = g.shape
    k = w.shape[2]
    gcols = (g.transpose(0, 2, 3, 1).reshape(-1, o) @ w.reshape(o, -1)).reshape(n, oh, ow, -1, k, k)
    dx = np.zeros(x_shape, g.dtype)
    for ky in range(k):
        for kx in range(k):
            dx[:, :, ky:ky + oh, kx:kx + ow] += gcols[..., ky, kx].transpose(0, 3, 1, 2)
    return dx


def np_conv_backward_weight(g, x, k):
    cols, _, _ = np_im2col(x, k)
    o = g.shape[1]
    g2 = g.transpose(1, 0, 2, 3).reshape(o, -1)
    return (g2 @ cols).reshape(o, x.shape[1], k, k), g2.sum(1)


def np_pool_forward(x):
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def np_pool_backward(g, x, y):
    n, c, h, w = x.shape
    xs = x.reshape(n, c, h // 2, 2, w // 2, 2)
    mask = xs == y[:, :, :, None, :, None]
    return (mask * g[:, :, :, None, :, None]).reshape(n, c, h, w)


def bench_cnn(report, quick, rng):
    params = ([1, 1], [0, 0], [1, 1], 1)
    for name, cin, cout, size in LAYERS:
        x = rng.standard_normal((BATCH, cin, size, size)).astype(np.float32)
        w = (rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(9 * cin)).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        out = size - 2
        g = rng.standard_normal((BATCH, cout, out, out)).astype(np.float32)
        dx, dw, db, dg = (deepcore.from_numpy(a)._data for a in (x, w, b, g))
        shape = f"{BATCH}x{cin}x{size}x{size} k3 ->{cout}"
        flops = 2.0 * BATCH * cout * out * out * cin * 9
        tx, tw, tb, tg = (torch.from_numpy(a) for a in (x, w, b, g)) if torch is not None else (None,) * 4

        def th(fn):
            return measure(fn) if torch is not None else None

        report.add(f"{name} forward", shape, flops, measure(lambda: _C.conv2d_forward(dx, dw, db, *params)),
                   measure(lambda: np_conv_forward(x, w, b)), th(lambda: F.conv2d(tx, tw, tb)))
        if cin > 1:  # the first layer's input is the data: no gradient
            report.add(f"{name} backward-input", shape, flops,
                       measure(lambda: _C.conv2d_backward_input(dg, dw, list(x.shape), *params)),
                       measure(lambda: np_conv_backward_input(g, w, x.shape)),
                       th(lambda: torch.ops.aten.convolution_backward(
                           tg, tx, tw, [cout], [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, False, False])))
        report.add(f"{name} backward-weight", shape, flops,
                   measure(lambda: _C.conv2d_backward_weight(dg, dx, list(w.shape), True, *params)),
                   measure(lambda: np_conv_backward_weight(g, x, 3)),
                   th(lambda: torch.ops.aten.convolution_backward(
                       tg, tx, tw, [cout], [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [False, True, True])))

        # One training step of the layer through autograd (forward + backward).
        gx = deepcore.from_numpy(g)
        xa = deepcore.from_numpy(x).requires_grad_(cin > 1)
        wa, ba = deepcore.from_numpy(w).requires_grad_(), deepcore.from_numpy(b).requires_grad_()

        def dc_step():
            conv2d(xa, wa, ba).backward(gx)
            wa.grad = ba.grad = xa.grad = None

        def th_step():
            txa = tx.clone().requires_grad_(cin > 1)
            twa, tba = tw.clone().requires_grad_(), tb.clone().requires_grad_()
            F.conv2d(txa, twa, tba).backward(tg)

        def np_step():
            np_conv_forward(x, w, b)
            np_conv_backward_weight(g, x, 3)
            if cin > 1:
                np_conv_backward_input(g, w, x.shape)

        report.add(f"{name} fwd+bwd", shape, (3 if cin > 1 else 2) * flops, measure(dc_step), measure(np_step),
                   th(th_step))

    # 2x2 max pool after the second conv.
    x = rng.standard_normal((BATCH, 64, 24, 24)).astype(np.float32)
    g = rng.standard_normal((BATCH, 64, 12, 12)).astype(np.float32)
    y = np_pool_forward(x)
    dx, dg = deepcore.from_numpy(x)._data, deepcore.from_numpy(g)._data
    shape = f"{BATCH}x64x24x24 k2"
    tx, tg = (torch.from_numpy(x), torch.from_numpy(g)) if torch is not None else (None, None)
    report.add("max_pool2d forward", shape, None, measure(lambda: _C.max_pool2d_forward(dx, [2, 2], [2, 2], [0, 0])),
               measure(lambda: np_pool_forward(x)), measure(lambda: F.max_pool2d(tx, 2)) if torch is not None else None)
    t_th = None
    if torch is not None:
        _, idx = F.max_pool2d_with_indices(tx, 2)
        t_th = measure(lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            tg, tx, [2, 2], [2, 2], [0, 0], [1, 1], False, idx))
    report.add("max_pool2d backward", shape, None,
               measure(lambda: _C.max_pool2d_backward(dg, dx, [2, 2], [2, 2], [0, 0])),
               measure(lambda: np_pool_backward(g, x, y)), t_th)
    xa, gx = deepcore.from_numpy(x).requires_grad_(), deepcore.from_numpy(g)

    def dc_pool_step():
        max_pool2d(xa, 2).backward(gx)
        xa.grad = None

    def th_pool_step():
        txa = tx.detach().requires_grad_()
        F.max_pool2d(txa, 2).backward(tg)

    report.add("max_pool2d fwd+bwd", shape, None, measure(dc_pool_step),
               measure(lambda: np_pool_backward(g, x, np_pool_forward(x))),
               measure(th_pool_step) if torch is not None else None)
