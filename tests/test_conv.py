"""Conv family (conv2d, conv_transpose2d, nn.Conv2d) against a naive float64 loop, finite differences and PyTorch (values and gradients)."""
import math

import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
from deepcore import _C
from deepcore.ops.conv import conv2d
from helpers import assert_close, check_op, numpy_state, pair, raises_in_order as raises, torch as _torch

ATOL = {"float64": 1e-10, "float32": 1e-4}  # float32 sums of up to ~600 products


def same_pads(k, d):
    total = d * (k - 1)
    return total // 2, total - total // 2


def conv2d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct loop over output pixels and kernel taps, in float64."""
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        pads = same_pads(kh, dh) + same_pads(kw, dw)
    else:
        ph, pw = pair(padding)
        pads = (ph, ph, pw, pw)
    xp = np.zeros((n, c, h + pads[0] + pads[1], wd + pads[2] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + wd] = x
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for g in range(groups):
        wg = w[g * og:(g + 1) * og]
        for oy in range(oh):
            for ox in range(ow):
                for ky in range(kh):
                    for kx in range(kw):
                        pix = xp[:, g * cg:(g + 1) * cg, oy * sh + ky * dh, ox * sw + kx * dw]  # (n, cg)
                        out[:, g * og:(g + 1) * og, oy, ox] += pix @ wg[:, :, ky, kx].T
    if b is not None:
        out += b[None, :, None, None]
    return out


# (input shape, weight shape, stride, padding, dilation, groups, bias)
CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, 1, 1, True),
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1, True),               # sizes 1
    ((2, 2, 7, 5), (3, 2, 3, 2), (2, 1), (1, 0), (1, 2), 1, True),  # mixed stride / padding / dilation
    ((1, 2, 3, 3), (2, 2, 5, 5), 1, 2, 1, 1, True),               # kernel larger than the input, padded
    ((1, 1, 2, 3), (2, 1, 3, 3), 3, 1, 1, 1, False),              # stride larger than the input
    ((3, 4, 7, 11), (6, 2, 3, 3), 2, 1, 1, 2, True),              # groups
    ((2, 4, 5, 5), (4, 1, 3, 3), 1, 1, 1, 4, False),              # depthwise
    ((2, 3, 6, 6), (5, 3, 1, 1), 1, 0, 1, 1, True),               # 1x1: no im2col
    ((2, 3, 7, 7), (5, 3, 1, 1), 2, 0, 1, 1, True),               # strided 1x1
    ((0, 3, 5, 5), (4, 3, 3, 3), 1, 1, 1, 1, True),               # empty batch
    ((1, 3, 13, 17), (2, 3, 2, 4), 1, "same", 2, 1, True),        # 'same', even kernel: asymmetric padding
    ((2, 2, 11, 7), (3, 2, 3, 3), 1, "same", 1, 1, False),
    ((2, 2, 6, 5), (3, 2, 3, 3), 1, "valid", 1, 1, True),
    ((3, 5, 13, 11), (7, 5, 3, 3), (3, 2), (2, 1), 1, 1, True),   # primes
    ((4, 1, 28, 28), (8, 1, 3, 3), 1, 0, 1, 1, True),             # the lecture's first layer, small batch
    ((2, 8, 12, 12), (16, 8, 3, 3), 1, 0, 1, 1, True),            # the lecture's second layer, shrunk
]


def case_id(c):
    return f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}{'-bias' if c[6] else ''}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conv2d(case, rng):
    x_shape, w_shape, stride, padding, dilation, groups, bias = case
    arrays = [rng.uniform(-1, 1, x_shape), rng.uniform(-1, 1, w_shape)] + ([rng.uniform(-1, 1, w_shape[0])]
                                                                            if bias else [])
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def fn(x, w, b=None):
        return conv2d(x, w, b, **kw)

    def torch_fn(x, w, b=None):
        return _torch.nn.functional.conv2d(x, w, b, **kw)

    check_op("conv2d", fn, lambda x, w, b=None: conv2d_ref(x, w, b, **kw), arrays=arrays, torch_fn=torch_fn,
             rng=rng, atol=ATOL, torch_tol=(1e-4, 1e-4))


def test_conv2d_gradcheck_all_inputs(rng):
    """gradcheck with stride, padding, dilation and groups together (check_op only runs it on tiny inputs)."""
    x = deepcore.tensor(rng.uniform(-1, 1, (1, 4, 4, 4)), requires_grad=True)
    w = deepcore.tensor(rng.uniform(-1, 1, (4, 2, 2, 3)), requires_grad=True)
    b = deepcore.tensor(rng.uniform(-1, 1, (4,)), requires_grad=True)
    assert deepcore.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                                              dilation=(2, 1), groups=2), (x, w, b))


def test_conv2d_col_tiles(rng, torch):
    """Ckk * output pixels above one col tile (2^18 elements): the tiles must join up."""
    x = rng.standard_normal((1, 64, 26, 26)).astype(np.float32)
    w = rng.standard_normal((3, 64, 3, 3)).astype(np.float32)
    g = rng.standard_normal((1, 3, 26, 26)).astype(np.float32)
    dx, dw = deepcore.tensor(x, requires_grad=True), deepcore.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = conv2d(dx, dw, padding=1)
    tout = torch.nn.functional.conv2d(tx, tw, padding=1)
    out.backward(deepcore.tensor(g))
    tout.backward(torch.tensor(g))
    assert_close(out.detach().numpy(), tout.detach().numpy(), 1e-3, 1e-4, "conv2d forward (tiled)")
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-3, 1e-4, "conv2d grad input (tiled)")
    assert_close(dw.grad.numpy(), tw.grad.numpy(), 1e-2, 1e-4, "conv2d grad weight (tiled)")


def test_conv2d_unbatched(rng, torch):
    x, w, b = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    out = conv2d(deepcore.tensor(x), deepcore.tensor(w), deepcore.tensor(b), padding=1)
    assert tuple(out.shape) == (2, 6, 5)
    assert_close(out.numpy(), torch.nn.functional.conv2d(*map(torch.tensor, (x, w, b)), padding=1).numpy(),
                 1e-10, 1e-9, "unbatched conv2d")


def test_conv2d_bias_only_grad(rng):
    x = deepcore.tensor(rng.standard_normal((2, 3, 5, 5)))
    w = deepcore.tensor(rng.standard_normal((4, 3, 3, 3)))
    b = deepcore.tensor(rng.standard_normal(4), requires_grad=True)
    g = rng.standard_normal((2, 4, 3, 3))
    conv2d(x, w, b).backward(deepcore.tensor(g))
    assert_close(b.grad.numpy(), g.sum((0, 2, 3)), 1e-12, 1e-12, "bias grad")


@pytest.mark.parametrize("batch", [1, 3, 8], ids=lambda n: f"batch{n}")
def test_conv2d_thread_count_does_not_change_results(batch, rng):
    """Batch 1 threads inside the GEMM, 3 runs whole images unevenly, 8 evenly: all bit-identical to 1 thread."""
    x = rng.standard_normal((batch, 6, 15, 13)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    g = rng.standard_normal((batch, 8, 8, 7)).astype(np.float32)
    results = []
    for threads in (1, 2):
        deepcore.set_num_threads(threads)
        dx, dw, db = (deepcore.tensor(a, requires_grad=True) for a in (x, w, b))
        out = conv2d(dx, dw, db, stride=2, padding=1, groups=2)
        out.backward(deepcore.tensor(g))
        results.append([t.detach().numpy() for t in (out, dx.grad, dw.grad, db.grad)])
    for name, one, two in zip(("output", "grad input", "grad weight", "grad bias"), *results):
        assert np.array_equal(one, two), f"{name} differs between 1 and 2 threads"


def test_conv2d_kernels_on_strided_inputs(rng):
    """Non-contiguous operands (a transposed view) give the same result as contiguous copies."""
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    xt = deepcore.tensor(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)
    assert not xt.is_contiguous()
    out = conv2d(xt, deepcore.tensor(w), padding=1)
    assert_close(out.numpy(), conv2d_ref(x, w, padding=1), 1e-10, 1e-9, "strided input")


def test_conv2d_errors():
    x = deepcore.ones(128, 3, 28, 28)
    w = deepcore.ones(32, 1, 3, 3)
    with raises(ValueError, "conv2d: input has 3 channels but weight expects 1", "(128, 3, 28, 28)"):
        conv2d(x, w)
    with raises(ValueError, "conv2d", "4-D input", "(3, 28)"):
        conv2d(deepcore.ones(3, 28), w)
    with raises(ValueError, "conv2d", "4-D weight", "(32, 3, 3)"):
        conv2d(x, deepcore.ones(32, 3, 3))
    with raises(ValueError, "conv2d", "stride", "positive"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), stride=0)
    with raises(ValueError, "conv2d", "padding", "non-negative"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), padding=-1)
    with raises(ValueError, "conv2d", "dilation", "positive"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), dilation=(1, 0))
    with raises(TypeError, "conv2d", "stride"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), stride=(1, 2, 3))
    with raises(ValueError, "conv2d", "'same'", "strided"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), stride=2, padding="same")
    with raises(ValueError, "conv2d", "padding", "'full'"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), padding="full")
    with raises(ValueError, "conv2d", "bias", "(2,)", "(3,)"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), deepcore.ones(3))
    with raises(ValueError, "conv2d", "3 output channels", "groups=2"):
        conv2d(deepcore.ones(1, 4, 5, 5), deepcore.ones(3, 2, 3, 3), groups=2)
    with raises(ValueError, "conv2d", "groups"):
        conv2d(x, deepcore.ones(2, 3, 3, 3), groups=0)
    with raises(ValueError, "conv2d", "smaller than the (dilated) kernel", "(5, 5)"):
        conv2d(deepcore.ones(1, 1, 4, 4), deepcore.ones(1, 1, 5, 5))
    with raises(ValueError, "conv2d", "smaller than the (dilated) kernel", "(5, 5)"):
        conv2d(deepcore.ones(1, 1, 4, 4), deepcore.ones(1, 1, 3, 3), dilation=2)
    with raises(TypeError, "conv2d", "float32", "float64"):
        conv2d(x, deepcore.ones(2, 3, 3, 3, dtype=deepcore.float64))
    with raises(TypeError, "conv2d", "input", "int64"):
        conv2d(deepcore.ones(1, 1, 3, 3, dtype=deepcore.int64), w)
    with raises(TypeError, "conv2d", "weight", "Tensor"):
        conv2d(x, np.ones((2, 3, 3, 3)))


def test_conv2d_kernel_errors():
    """The native kernels check their arguments too (no crash on a bad call that bypasses the Python op)."""
    x = deepcore.ones(2, 3, 5, 5)._data
    w = deepcore.ones(4, 3, 3, 3)._data
    p = ([1, 1], [0, 0], [1, 1], 1)
    with raises(ValueError, "conv2d", "input has 3 channels but weight expects 6"):
        _C.conv2d_forward(x, deepcore.ones(4, 6, 3, 3)._data, None, *p)
    with raises(ValueError, "conv2d", "bias", "(4,)"):
        _C.conv2d_forward(x, w, deepcore.ones(5)._data, *p)
    with raises(ValueError, "conv2d_backward_input", "grad_out", "(2, 4, 3, 3)"):
        _C.conv2d_backward_input(deepcore.ones(2, 4, 4, 4)._data, w, [2, 3, 5, 5], *p)
    with raises(ValueError, "conv2d_backward_weight", "grad_out"):
        _C.conv2d_backward_weight(deepcore.ones(2, 4, 4, 4)._data, x, [4, 3, 3, 3], True, *p)
    with raises(ValueError, "conv2d", "stride"):
        _C.conv2d_forward(x, w, None, [0, 1], [0, 0], [1, 1], 1)
    with raises(ValueError, "padding", "2 values"):
        _C.conv2d_forward(x, w, None, [1, 1], [0, 0, 0], [1, 1], 1)
    with raises(TypeError, "conv2d", "float64"):
        _C.conv2d_forward(x, deepcore.ones(4, 3, 3, 3, dtype=deepcore.float64)._data, None, *p)


# ---- conv_transpose2d ----------------------------------------------------------------------------

def conv_transpose2d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Every input pixel scatters weight * value onto the output (float64), then the padding is cut."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oph, opw = pair(output_padding)
    dh, dw = pair(dilation)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    full = np.zeros((n, og * groups, (h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw))
    for g in range(groups):
        for iy in range(h):
            for ix in range(wd):
                for ky in range(kh):
                    for kx in range(kw):
                        full[:, g * og:(g + 1) * og, iy * sh + ky * dh, ix * sw + kx * dw] += \
                            x[:, g * cg:(g + 1) * cg, iy, ix] @ w[g * cg:(g + 1) * cg, :, ky, kx]
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out + b[None, :, None, None] if b is not None else out


# (input shape, weight shape (in, out/groups, kh, kw), stride, padding, output_padding, groups, dilation, bias)
TRANSPOSE_CASES = [
    ((2, 3, 4, 4), (3, 2, 3, 3), 1, 0, 0, 1, 1, True),
    ((2, 3, 4, 5), (3, 4, 3, 3), 2, 1, 1, 1, 1, True),    # the decoder's up-sampling step
    ((1, 2, 3, 3), (2, 3, 2, 2), 2, 0, 0, 1, 1, False),   # k = s: non-overlapping
    ((2, 4, 3, 4), (4, 1, 3, 3), (2, 1), (1, 0), (1, 0), 2, 1, True),  # groups, mixed stride
    ((1, 2, 4, 4), (2, 2, 3, 2), 1, 1, 0, 1, (2, 1), True),             # dilation
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 0, 1, 1, True),    # sizes 1
    ((0, 3, 4, 4), (3, 2, 3, 3), 2, 1, 0, 1, 1, True),    # empty batch
    ((1, 3, 7, 5), (3, 5, 4, 3), 3, 1, 2, 1, 1, True),    # stride 3, output_padding 2
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}-op{c[4]}-g{c[5]}")
def test_conv_transpose2d(case, rng):
    x_shape, w_shape, stride, padding, output_padding, groups, dilation, bias = case
    arrays = [rng.uniform(-1, 1, x_shape), rng.uniform(-1, 1, w_shape)] + \
        ([rng.uniform(-1, 1, w_shape[1] * groups)] if bias else [])
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)

    def fn(x, w, b=None):
        return deepcore.nn.functional.conv_transpose2d(x, w, b, **kw)

    def torch_fn(x, w, b=None):
        return _torch.nn.functional.conv_transpose2d(x, w, b, **kw)

    check_op("conv_transpose2d", fn, lambda x, w, b=None: conv_transpose2d_ref(x, w, b, **kw), arrays=arrays,
             torch_fn=torch_fn, rng=rng, atol=ATOL, torch_tol=(1e-4, 1e-4))


def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng):
    """<conv2d(y, w), x> = <y, conv_transpose2d(x, w)> for every x, y: the defining property."""
    w = rng.standard_normal((3, 2, 3, 3))
    y = rng.standard_normal((2, 2, 9, 9))
    x = rng.standard_normal((2, 3, 5, 5))
    lhs = (conv2d(deepcore.tensor(y), deepcore.tensor(w), stride=2, padding=1).numpy() * x).sum()
    rhs = (y * deepcore.nn.functional.conv_transpose2d(deepcore.tensor(x), deepcore.tensor(w), stride=2,
                                                       padding=1).numpy()).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_conv_transpose2d_module_and_errors():
    m = deepcore.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert tuple(m.weight.shape) == (4, 3, 3, 3) and tuple(m(deepcore.randn(2, 4, 5, 5)).shape) == (2, 6, 10, 10)
    assert "output_padding=(1, 1)" in repr(m)
    f = deepcore.nn.functional.conv_transpose2d
    with raises(ValueError, "conv_transpose2d: input has 2 channels but weight expects 4"):
        f(deepcore.randn(1, 2, 3, 3), deepcore.randn(4, 1, 3, 3))
    with raises(ValueError, "output_padding", "smaller than the stride"):
        f(deepcore.randn(1, 4, 3, 3), deepcore.randn(4, 1, 3, 3), stride=2, output_padding=2)
    with raises(ValueError, "leaves no output"):
        f(deepcore.randn(1, 4, 1, 1), deepcore.randn(4, 1, 1, 1), padding=1)


# ---- nn.Conv2d in a network with pool and upsample layers ------------------------------------

def conv_available():
    try:
        deepcore.ops.conv.conv2d(deepcore.zeros(1, 1, 3, 3), deepcore.zeros(1, 1, 2, 2))
        deepcore.ops.pool.max_pool2d(deepcore.zeros(1, 1, 2, 2), 2)
    except NotImplementedError:
        return False
    return True


needs_conv = pytest.mark.skipif(not conv_available(),
                                reason="deepcore.ops.conv / ops.pool are still stubs (NotImplementedError) in this "
                                       "build; the conv-family work (issue 3) lands them")


@needs_conv
def test_conv_pool_upsample_layers_match_torch(torch, rng):
    def build(ns):
        return ns.Sequential(ns.Conv2d(2, 4, 3, padding=1), ns.ReLU(), ns.MaxPool2d(2), ns.Conv2d(4, 4, 3, stride=2),
                             ns.AvgPool2d(1), ns.Upsample(scale_factor=2), ns.Flatten(), ns.Linear(4 * 2 * 2, 3))
    tm, dm = build(torch.nn), build(nn)
    dm.load_state_dict(numpy_state(tm))
    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    tx, dx = torch.tensor(x, requires_grad=True), deepcore.tensor(x, requires_grad=True)
    ty, dy = tm(tx), dm(dx)
    assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-4, 1e-4, "conv net vs torch")
    ty.square().sum().backward()
    (dy * dy).sum().backward()
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-3, 1e-3, "conv net input grad vs torch")
    for (name, p), tp in zip(dm.named_parameters(), tm.parameters()):
        assert_close(p.grad.numpy(), tp.grad.numpy(), 1e-3, 1e-3, f"conv net grad of {name}")


@needs_conv
def test_conv_same_padding_and_default_init():
    conv = nn.Conv2d(3, 5, 3, padding="same")
    assert conv(deepcore.randn(1, 3, 6, 6)).shape == (1, 5, 6, 6)
    bound = 1 / math.sqrt(3 * 9)
    assert float(conv.weight.abs().max()) <= bound and float(conv.bias.abs().max()) <= bound


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on its own copy
def test_functional_conv2d_same_padding_with_an_even_kernel_pads_like_pytorch(rng):
    """F.conv2d(padding='same') refused an even kernel although the kernels pad asymmetrically; it is
    now ops.conv2d itself: one more row/column of padding at the bottom/right, as PyTorch."""
    x, w = rng.uniform(-1, 1, (1, 2, 7, 6)), rng.uniform(-1, 1, (3, 2, 2, 4))
    out = nn.functional.conv2d(deepcore.tensor(x), deepcore.tensor(w), padding="same").numpy()
    assert out.shape == (1, 3, 7, 6)
    expected = conv2d_ref(x, w, None, stride=1, padding="same", dilation=1, groups=1)
    np.testing.assert_allclose(out, expected, atol=1e-10)
    if _torch is not None:
        ref = _torch.nn.functional.conv2d(_torch.tensor(x), _torch.tensor(w), padding="same").numpy()
        np.testing.assert_allclose(out, ref, atol=1e-10)

