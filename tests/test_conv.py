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



# ---- conv1d and conv_transpose1d: the 2-d kernels on an H = 1 view --------------------------------

def conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    pads = padding if isinstance(padding, str) else (0, padding)
    return conv2d_ref(x[:, :, None], w[:, :, None], b, (1, stride), pads, (1, dilation), groups)[:, :, 0]


# (input shape, weight shape, stride, padding, dilation, groups, bias)
CASES_1D = [
    ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1, True),
    ((1, 1, 1), (1, 1, 1), 1, 0, 1, 1, True),                 # sizes 1
    ((2, 2, 11), (3, 2, 3), 2, 1, 2, 1, True),               # stride, padding, dilation
    ((3, 4, 7), (6, 2, 3), 2, 1, 1, 2, False),               # groups
    ((2, 4, 5), (4, 1, 3), 1, 1, 1, 4, True),                # depthwise
    ((1, 3, 13), (2, 3, 4), 1, "same", 2, 1, True),          # 'same', even kernel: one more on the right
    ((2, 2, 6), (3, 2, 3), 1, "valid", 1, 1, True),
    ((0, 3, 5), (4, 3, 3), 1, 1, 1, 1, True),                # empty batch
    ((2, 5, 17), (7, 5, 5), 3, 2, 1, 1, True),               # primes
]


@pytest.mark.parametrize("case", CASES_1D, ids=lambda c: f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}")
def test_conv1d(case, rng):
    x_shape, w_shape, stride, padding, dilation, groups, bias = case
    arrays = [rng.uniform(-1, 1, x_shape), rng.uniform(-1, 1, w_shape)] + ([rng.uniform(-1, 1, w_shape[0])]
                                                                            if bias else [])
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    check_op("conv1d", lambda x, w, b=None: nn.functional.conv1d(x, w, b, **kw),
             lambda x, w, b=None: conv1d_ref(x, w, b, **kw), arrays=arrays,
             torch_fn=lambda x, w, b=None: _torch.nn.functional.conv1d(x, w, b, **kw), rng=rng, atol=ATOL,
             torch_tol=(1e-4, 1e-4))


def test_conv1d_unbatched_and_tuple_arguments(rng):
    x, w = rng.standard_normal((3, 8)), rng.standard_normal((2, 3, 3))
    out = nn.functional.conv1d(deepcore.tensor(x), deepcore.tensor(w), stride=(2,), padding=[1], dilation=(1,))
    assert tuple(out.shape) == (2, 4)
    assert_close(out.numpy(), conv1d_ref(x[None], w, stride=2, padding=1)[0], 1e-12, 1e-12, "unbatched conv1d")


def test_conv1d_errors():
    f = nn.functional.conv1d
    x, w = deepcore.ones(2, 3, 8), deepcore.ones(4, 3, 3)
    with raises(ValueError, "conv1d", "3-D input", "(1, 2, 5, 6)"):
        f(deepcore.ones(1, 2, 5, 6), w)
    with raises(ValueError, "conv1d", "3-D weight", "(4, 3, 3, 1)"):
        f(x, deepcore.ones(4, 3, 3, 1))
    with raises(ValueError, "conv1d: input has 3 channels but weight expects 2", "(2, 3, 8)"):
        f(x, deepcore.ones(4, 2, 3))
    with raises(TypeError, "conv1d", "padding", "one int"):
        f(x, w, padding=(1, 1))
    with raises(TypeError, "conv1d", "stride"):
        f(x, w, stride=(1, 1))
    with raises(ValueError, "conv1d", "'same'", "strided", "stride 2"):
        f(x, w, stride=2, padding="same")
    with raises(ValueError, "conv1d", "smaller than the (dilated) kernel", "5"):
        f(deepcore.ones(1, 3, 4), w, dilation=2)
    with raises(ValueError, "conv1d", "padding", "'full'"):
        f(x, w, padding="full")


def conv_transpose1d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return conv_transpose2d_ref(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (0, output_padding),
                                groups, (1, dilation))[:, :, 0]


@pytest.mark.parametrize("case", [
    ((2, 3, 5), (3, 2, 3), 1, 0, 0, 1, 1, True),
    ((2, 3, 4), (3, 4, 3), 2, 1, 1, 1, 1, True),     # up-sampling with output_padding
    ((2, 4, 3), (4, 1, 3), 3, 1, 2, 2, 1, False),    # groups, stride 3
    ((1, 2, 4), (2, 2, 2), 1, 1, 0, 1, 2, True),     # dilation
    ((0, 3, 4), (3, 2, 3), 2, 0, 0, 1, 1, True),     # empty batch
], ids=lambda c: f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}-op{c[4]}-g{c[5]}-d{c[6]}")
def test_conv_transpose1d(case, rng):
    x_shape, w_shape, stride, padding, output_padding, groups, dilation, bias = case
    arrays = [rng.uniform(-1, 1, x_shape), rng.uniform(-1, 1, w_shape)] + \
        ([rng.uniform(-1, 1, w_shape[1] * groups)] if bias else [])
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    check_op("conv_transpose1d", lambda x, w, b=None: nn.functional.conv_transpose1d(x, w, b, **kw),
             lambda x, w, b=None: conv_transpose1d_ref(x, w, b, **kw), arrays=arrays,
             torch_fn=lambda x, w, b=None: _torch.nn.functional.conv_transpose1d(x, w, b, **kw), rng=rng, atol=ATOL,
             torch_tol=(1e-4, 1e-4))


def test_conv_transpose1d_errors():
    f = nn.functional.conv_transpose1d
    with raises(ValueError, "conv_transpose1d: input has 2 channels but weight expects 4"):
        f(deepcore.randn(1, 2, 3), deepcore.randn(4, 1, 3))
    with raises(ValueError, "conv_transpose1d", "output_padding 2", "smaller than the stride 2"):
        f(deepcore.randn(1, 4, 3), deepcore.randn(4, 1, 3), stride=2, output_padding=2)
    with raises(ValueError, "conv_transpose1d", "3-D input"):
        f(deepcore.randn(1, 4, 3, 3), deepcore.randn(4, 1, 3))


# ---- the modules: Conv1d, padding_mode, ConvTranspose1d, output_size --------------------------------

def _module_matches_torch(torch, dmod, tmod, x, what, **call):
    """Values, the input's gradient and every parameter's gradient of a random-weighted sum."""
    dx, tx = deepcore.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    dy, ty = dmod(dx, **call), tmod(tx, **call)
    assert_close(dy.detach().numpy(), ty.detach().numpy(), 1e-5, 1e-4, f"{what} output")
    g = np.random.default_rng(0).standard_normal(tuple(ty.shape)).astype(np.float32)
    (dy * deepcore.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    assert_close(dx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-4, f"{what} input gradient")
    for name, p in dmod.named_parameters():
        assert_close(p.grad.numpy(), getattr(tmod, name).grad.numpy(), 1e-4, 1e-4, f"{what} gradient of {name}")


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("args", [
    dict(kernel_size=3, padding=1), dict(kernel_size=4, padding="same", dilation=2),
    dict(kernel_size=3, padding=2, stride=2, groups=2, bias=False), dict(kernel_size=3, padding="valid")],
    ids=["pad1", "same-even", "strided-groups", "valid"])
def test_conv1d_and_conv2d_modules_match_torch(padding_mode, args, torch, rng):
    for dim, shape in ((1, (2, 4, 9)), (2, (2, 4, 7, 6))):
        name = f"Conv{dim}d"
        tmod = getattr(torch.nn, name)(4, 6, padding_mode=padding_mode, **args)
        dmod = getattr(nn, name)(4, 6, padding_mode=padding_mode, **args)
        dmod.load_state_dict(numpy_state(tmod))
        assert repr(dmod) == repr(tmod)
        _module_matches_torch(torch, dmod, tmod, rng.standard_normal(shape).astype(np.float32),
                              f"{name}({padding_mode}, {args})")


@pytest.mark.parametrize("dim", [1, 2])
def test_conv_transpose_modules_and_output_size_match_torch(dim, torch, rng):
    name = f"ConvTranspose{dim}d"
    tmod, dmod = getattr(torch.nn, name)(3, 4, 3, stride=2, padding=1), getattr(nn, name)(3, 4, 3, stride=2, padding=1)
    dmod.load_state_dict(numpy_state(tmod))
    assert repr(dmod) == repr(tmod)
    shape = (2, 3) + (5,) * dim
    x = rng.standard_normal(shape).astype(np.float32)
    _module_matches_torch(torch, dmod, tmod, x, name)
    for size in ([10] * dim, [2, 4] + [10] * dim):  # the largest valid size, with and without (N, C)
        for p in list(dmod.parameters()) + list(tmod.parameters()):
            p.grad = None
        _module_matches_torch(torch, dmod, tmod, x, f"{name} output_size={size}", output_size=size)
        assert tuple(dmod(deepcore.tensor(x), output_size=size).shape)[2:] == (10,) * dim
    with raises(ValueError, "requested an output size of", "valid sizes range from", "[9", "[10"):
        dmod(deepcore.tensor(x), output_size=[11] * dim)
    with raises(ValueError, f"ConvTranspose{dim}D", "output_size must have"):
        dmod(deepcore.tensor(x), output_size=[9] * (dim + 1))


def test_conv_module_argument_errors():
    with raises(ValueError, "padding_mode must be one of", "'foo'"):
        nn.Conv1d(2, 3, 3, padding_mode="foo")
    with raises(ValueError, 'Only "zeros" padding mode is supported for ConvTranspose1d'):
        nn.ConvTranspose1d(2, 3, 3, padding_mode="reflect")
    with raises(ValueError, "padding='same' is not supported for strided convolutions"):
        nn.Conv1d(2, 3, 3, stride=2, padding="same")
    with raises(ValueError, "Invalid padding string 'full'"):
        nn.Conv2d(2, 3, 3, padding="full")
    with raises(ValueError, "in_channels must be divisible by groups"):
        nn.Conv1d(3, 4, 3, groups=2)
    m = nn.Conv1d(2, 3, 3)
    assert (m.kernel_size, m.stride, m.padding, m.dilation) == ((3,), (1,), (0,), (1,))
    assert tuple(m.weight.shape) == (3, 2, 3)


# ---- unfold (im2col) and fold (col2im) ---------------------------------------------------------------

def unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    """Columns by a loop over block positions and kernel taps, in float64."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(pair, (kernel_size, dilation, padding, stride))
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1, (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c, kh, kw, oh, ow))
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    out[:, :, ky, kx, oy, ox] = xp[:, :, oy * sh + ky * dh, ox * sw + kx * dw]
    return out.reshape(n, c * kh * kw, oh * ow)


def fold_ref(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Every column entry added onto its pixel of the padded image, then the padding cut."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(pair, (output_size, kernel_size, dilation, padding, stride))
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    blocks = cols.reshape(n, c, kh, kw, oh, ow)
    image = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    image[:, :, oy * sh + ky * dh, ox * sw + kx * dw] += blocks[:, :, ky, kx, oy, ox]
    return image[:, :, ph:ph + h, pw:pw + w]


# (image shape, kernel_size, dilation, padding, stride)
FOLD_CASES = [
    ((2, 3, 5, 6), 2, 1, 0, 1),
    ((1, 2, 7, 5), (2, 3), (2, 1), 1, (2, 1)),   # everything mixed, overlapping blocks
    ((2, 1, 6, 6), 3, 1, 1, 3),                  # stride = kernel: no overlap
    ((1, 2, 4, 4), 3, 1, 2, 2),                  # padding larger than the overlap
    ((1, 1, 1, 1), 1, 1, 0, 1),                  # sizes 1
    ((0, 2, 4, 5), 2, 1, 0, 1),                  # empty batch
    ((2, 3, 9, 7), (3, 2), 1, (1, 0), (2, 3)),   # primes
]


@pytest.mark.parametrize("case", FOLD_CASES, ids=lambda c: f"x{c[0]}-k{c[1]}-d{c[2]}-p{c[3]}-s{c[4]}")
def test_unfold(case, rng):
    shape, k, d, p, s = case
    check_op("unfold", lambda x: nn.functional.unfold(x, k, d, p, s), lambda x: unfold_ref(x, k, d, p, s),
             shapes=[shape], rng=rng, torch_fn=lambda x: _torch.nn.functional.unfold(x, k, d, p, s))


@pytest.mark.parametrize("case", FOLD_CASES, ids=lambda c: f"x{c[0]}-k{c[1]}-d{c[2]}-p{c[3]}-s{c[4]}")
def test_fold(case, rng):
    shape, k, d, p, s = case
    cols_shape = unfold_ref(np.zeros(shape), k, d, p, s).shape
    check_op("fold", lambda c: nn.functional.fold(c, shape[2:], k, d, p, s),
             lambda c: fold_ref(c, shape[2:], k, d, p, s), shapes=[cols_shape], rng=rng,
             torch_fn=lambda c: _torch.nn.functional.fold(c, shape[2:], k, d, p, s))


def test_unfold_fold_unbatched_strided_and_non_finite(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    bad = x.copy()
    bad[0, 1, 2, 3], bad[1, 2, 0, 0] = np.inf, np.nan
    cols = nn.functional.unfold(deepcore.tensor(bad), 3, padding=1)
    # a pixel's value is copied, never multiplied: an inf or a NaN appears only where that pixel does
    np.testing.assert_array_equal(cols.numpy(), unfold_ref(bad, 3, padding=1))  # NaN matches NaN
    un = nn.functional.unfold(deepcore.tensor(x[0]), 3, padding=1)
    assert_close(un.numpy(), unfold_ref(x[:1], 3, padding=1)[0], 0, 0, "unbatched unfold")
    folded = nn.functional.fold(deepcore.tensor(unfold_ref(x[:1], 2)[0]), (6, 5), 2)
    assert_close(folded.numpy(), fold_ref(unfold_ref(x[:1], 2), (6, 5), 2)[0], 0, 0, "unbatched fold")
    xt = deepcore.tensor(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)  # a non-contiguous input
    assert not xt.is_contiguous()
    assert_close(nn.functional.unfold(xt, 2, stride=2).numpy(), unfold_ref(x, 2, stride=2), 0, 0, "strided unfold")
    ones = nn.functional.fold(nn.functional.unfold(deepcore.ones(1, 1, 4, 4), 2), (4, 4), 2)
    assert ones.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]


def test_unfold_fold_modules_and_errors(torch):
    assert repr(nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))) == \
        repr(torch.nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)))
    assert repr(nn.Fold((4, 5), 2)) == repr(torch.nn.Fold((4, 5), 2))
    assert tuple(nn.Fold((4, 5), 2)(nn.Unfold(2)(deepcore.ones(2, 3, 4, 5))).shape) == (2, 3, 4, 5)
    f, g = nn.functional.unfold, nn.functional.fold
    with raises(ValueError, "unfold", "4-D input", "(2, 5)"):
        f(deepcore.ones(2, 5), 2)
    with raises(ValueError, "unfold", "spatial size (5, 6)", "kernel_size=(7, 7)", "(-1, 0)", "at least one"):
        f(deepcore.ones(1, 2, 5, 6), 7)
    with raises(ValueError, "unfold", "kernel_size", "positive"):
        f(deepcore.ones(1, 2, 5, 6), 0)
    with raises(ValueError, "unfold", "padding", "non-negative"):
        f(deepcore.ones(1, 2, 5, 6), 2, padding=-1)
    with raises(TypeError, "unfold", "kernel_size"):
        f(deepcore.ones(1, 2, 5, 6), (2, 2, 2))
    with raises(TypeError, "unfold", "float32 or float64", "int64"):
        f(deepcore.ones(1, 1, 3, 3, dtype=deepcore.int64), 2)
    with raises(ValueError, "fold", "divisible by the product of kernel_size", "input.size(1)=7", "(2, 2)"):
        g(deepcore.ones(1, 7, 20), (5, 6), 2)
    with raises(ValueError, "fold", "sliding blocks 4 * 5 = 20", "input.size(2)=19"):
        g(deepcore.ones(1, 8, 19), (5, 6), 2)
    with raises(ValueError, "fold", "3-D input", "(1, 8, 20, 1)"):
        g(deepcore.ones(1, 8, 20, 1), (5, 6), 2)
