"""Dropout family (F.dropout / nn.Dropout and their Philox mask) against the statistics of the mask, NumPy float64 gradients and gradcheck."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close, raises


def test_dropout_training_statistics_and_eval_identity():
    x = deepcore.ones(200, 500)
    drop = nn.Dropout(0.3)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_close(y[kept], np.full(kept.sum(), 1 / 0.7), 1e-6, 1e-6, "kept elements are scaled by 1/(1-p)")
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)
    state = deepcore.get_rng_state()
    with pytest.raises(TypeError, match="float32 or float64"):
        F.dropout(deepcore.tensor([1, 2, 3]), 0.5)
    assert deepcore.get_rng_state() == state  # a refused call draws nothing


def test_dropout_reproducible_and_independent_of_threads():
    x = deepcore.randn(300, 301)  # not a multiple of 4: the tail of the last Philox block
    outs = []
    for threads in (1, 2, 1):
        deepcore.set_num_threads(threads)
        deepcore.manual_seed(123)
        outs.append(F.dropout(x, 0.5).numpy().copy())
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), outs[0])  # the stream moves on


def test_dropout_keeps_nan_and_inf_visible():
    """As in PyTorch (x * mask / (1 - p)): a NaN or inf input makes NaN where it is dropped, so a
    diverged activation is not hidden by the layer that happens to drop it."""
    x = deepcore.tensor([np.nan, np.inf, -np.inf, 1.0] * 500)
    y = F.dropout(x, 0.5).numpy().reshape(500, 4)
    assert np.isnan(y[:, 0]).all()
    assert (np.isnan(y[:, 1]) | (y[:, 1] == np.inf)).all() and np.isnan(y[:, 1]).any()
    assert (np.isnan(y[:, 2]) | (y[:, 2] == -np.inf)).all()
    assert set(np.unique(y[:, 3])) <= {0.0, 2.0}


def test_dropout_backward_reuses_mask(rng):
    x = deepcore.tensor(rng.uniform(1, 2, (40, 30)), requires_grad=True)
    g = rng.standard_normal((40, 30))
    y = F.dropout(x, 0.4)
    y.backward(deepcore.tensor(g, dtype=deepcore.float32))
    mask = y.detach().numpy() != 0
    assert_close(x.grad.numpy(), np.where(mask, g / 0.6, 0.0), 1e-5, 1e-5, "dropout gradient")
    # a gradient arriving as a permuted view (Keras' channels-last Flatten hands back NHWC memory)
    x4 = deepcore.tensor(rng.uniform(1, 2, (3, 5, 4, 6)), requires_grad=True)
    g4 = rng.standard_normal((3, 4, 6, 5))
    y4 = F.dropout(x4, 0.25)
    y4.backward(deepcore.tensor(g4, dtype=deepcore.float32).permute(0, 3, 1, 2))
    kept4 = y4.detach().numpy() != 0
    assert_close(x4.grad.numpy(), np.where(kept4, g4.transpose(0, 3, 1, 2) / 0.75, 0.0), 1e-5, 1e-5,
                 "dropout gradient from a permuted view")
    # float64 and strided inputs
    xt = deepcore.randn(8, 6, dtype=deepcore.float64).t()
    yt = F.dropout(xt, 0.5)
    assert yt.dtype is deepcore.float64 and yt.shape == (6, 8)
    kept = yt.numpy() != 0
    assert_close(yt.numpy()[kept], xt.numpy()[kept] * 2, 1e-12, 0, "dropout on a transposed view")


def test_dropout_gradcheck_with_a_fixed_mask(rng):
    x = deepcore.tensor(rng.standard_normal((4, 5)), dtype=deepcore.float64, requires_grad=True)

    def dropped(t):
        deepcore.manual_seed(21)  # the same mask on every evaluation
        return F.dropout(t, 0.4)
    assert deepcore.autograd.gradcheck(dropped, [x])


def test_dropout_module_and_functional_draw_the_same_mask():
    x = deepcore.randn(50, 40)
    deepcore.manual_seed(3)
    a = nn.Dropout(0.3)(x).numpy().copy()
    deepcore.manual_seed(3)
    assert np.array_equal(a, F.dropout(x, 0.3).numpy())


# ---- channel-wise dropout: dropout1d / dropout2d / dropout3d ----------------------------------

def _channel_values(y, channel_dims):
    """y viewed as (channels, rest): every channel must be all 0 or all kept."""
    lead = int(np.prod(y.shape[:channel_dims]))
    return y.reshape(lead, -1)


@pytest.mark.parametrize("fn,shape,channel_dims", [
    ("dropout1d", (16, 32, 7), 2), ("dropout1d", (64, 9), 1),
    ("dropout2d", (8, 32, 3, 4), 2), ("dropout3d", (4, 32, 2, 3, 2), 2), ("dropout3d", (48, 2, 3, 2), 1),
], ids=str)
def test_channel_dropout_zeroes_whole_channels(fn, shape, channel_dims):
    p = 0.3
    x = deepcore.ones(*shape)
    y = getattr(F, fn)(x, p).numpy()
    per_channel = _channel_values(y, channel_dims)
    kept = per_channel[:, 0] != 0
    assert (per_channel == per_channel[:, :1]).all(), f"{fn}: a channel was partly zeroed"
    assert_close(per_channel[kept], np.full(per_channel[kept].shape, 1 / (1 - p)), 1e-6, 1e-6, f"{fn} scale")
    n = kept.size
    assert abs((~kept).mean() - p) < 4 * np.sqrt(p * (1 - p) / n), f"{fn}: {(~kept).mean():.3f} of {n} dropped"


def test_channel_dropout_gradient_is_the_same_mask(rng):
    x = deepcore.tensor(rng.uniform(1, 2, (6, 5, 4, 3)), requires_grad=True)
    g = rng.standard_normal((6, 5, 4, 3))
    y = F.dropout2d(x, 0.4)
    y.backward(deepcore.tensor(g, dtype=deepcore.float32))
    kept = y.detach().numpy() != 0
    assert_close(x.grad.numpy(), np.where(kept, g / 0.6, 0.0), 1e-5, 1e-5, "dropout2d gradient")

    x64 = deepcore.tensor(rng.standard_normal((3, 4, 5)), dtype=deepcore.float64, requires_grad=True)

    def dropped(t):
        deepcore.manual_seed(5)  # the same channels on every evaluation
        return F.dropout1d(t, 0.5)
    assert deepcore.autograd.gradcheck(dropped, [x64])


def test_channel_dropout_rank_rules_and_warnings_are_pytorch_s():
    with raises(RuntimeError, "dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(deepcore.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        y = F.dropout2d(deepcore.ones(16, 32, 5), 0.5)
    assert (_channel_values(y.numpy(), 2) == _channel_values(y.numpy(), 2)[:, :1]).all()
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(deepcore.ones(4, 5))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(deepcore.ones(4, 5, 6))
    with pytest.warns(UserWarning), raises(RuntimeError, "Feature dropout requires at least 2 dimensions"):
        F.dropout2d(deepcore.ones(5))
    state = deepcore.get_rng_state()
    with pytest.warns(UserWarning):
        assert F.dropout2d(deepcore.ones(5), training=False).shape == (5,)  # not training: no check, no draw
    assert deepcore.get_rng_state() == state


# ---- alpha dropout ----------------------------------------------------------------------------

ALPHA = 1.7580993408473766  # SELU's negative saturation, -scale * alpha


def _alpha_coefficients(p):
    a = ((ALPHA ** 2 * p + 1) * (1 - p)) ** -0.5
    return a, ALPHA * a * p, -ALPHA * a * (1 - p)  # scale, shift of kept values, value of dropped ones


def test_alpha_dropout_keeps_mean_and_variance_and_matches_the_formula(rng):
    p = 0.2
    x = rng.standard_normal((400, 500))
    y = F.alpha_dropout(deepcore.tensor(x), p, training=True).numpy()
    a, shift, dropped_value = _alpha_coefficients(p)
    dropped = np.isclose(y, dropped_value, atol=1e-6) & ~np.isclose(a * x + shift, dropped_value, atol=1e-5)
    assert abs(dropped.mean() - p) < 0.005
    assert_close(y[~dropped], (a * x + shift)[~dropped], 1e-5, 1e-5, "kept elements: a x + alpha a p")
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01, (y.mean(), y.std())


def test_feature_alpha_dropout_sets_whole_channels(rng):
    p = 0.5
    x = rng.standard_normal((8, 16, 3, 3))
    y = F.feature_alpha_dropout(deepcore.tensor(x), p, training=True).numpy()
    a, shift, dropped_value = _alpha_coefficients(p)
    per_channel = y.reshape(128, -1)
    dropped = np.isclose(per_channel, dropped_value, atol=1e-6).all(axis=1)
    kept_ok = np.isclose(per_channel, (a * x + shift).reshape(128, -1), atol=1e-5).all(axis=1)
    assert (dropped | kept_ok).all() and 0.3 < dropped.mean() < 0.7
    with raises(RuntimeError, "feature_alpha_dropout", "at least 2 dimensions"):
        F.feature_alpha_dropout(deepcore.ones(5), 0.5, training=True)


def test_alpha_dropout_gradient(rng):
    x = deepcore.tensor(rng.standard_normal((30, 40)), requires_grad=True)
    y = F.alpha_dropout(x, 0.3, training=True)
    y.sum().backward()
    a, shift, dropped_value = _alpha_coefficients(0.3)
    kept = np.isclose(y.detach().numpy(), a * x.detach().numpy() + shift, atol=1e-5)
    assert_close(x.grad.numpy(), np.where(kept, a, 0.0), 1e-6, 1e-6, "alpha_dropout gradient")
    x64 = deepcore.tensor(rng.standard_normal((4, 5)), dtype=deepcore.float64, requires_grad=True)

    def dropped(t):
        deepcore.manual_seed(9)
        return F.feature_alpha_dropout(t, 0.4, training=True)
    assert deepcore.autograd.gradcheck(dropped, [x64])


# ---- what every variant shares: eval, p = 0 / 1, seeds, threads, errors, in place, modules ------

VARIANTS = [("dropout1d", (6, 5, 7), True), ("dropout2d", (4, 5, 3, 3), True), ("dropout3d", (2, 5, 2, 3, 3), True),
            ("alpha_dropout", (40, 30), False), ("feature_alpha_dropout", (6, 5, 4), False)]


@pytest.mark.parametrize("fn,shape,default_training", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variants_identity_and_limits(fn, shape, default_training):
    f = getattr(F, fn)
    x = deepcore.randn(*shape)
    assert f(x, 0.5, training=False) is x
    assert f(x, 0.0, training=True) is x
    assert (f(x, 0.5) is x) == (not default_training)  # alpha dropout defaults to training=False, as in torch
    special = deepcore.tensor(np.where(np.arange(np.prod(shape)).reshape(shape) % 7 == 0, np.inf, 1.0))
    y = f(special, 1.0, training=True).numpy()
    assert (y[np.isfinite(special.numpy())] == 0).all() and np.isnan(y[~np.isfinite(special.numpy())]).all()


@pytest.mark.parametrize("fn,shape,default_training", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variants_are_reproducible_and_independent_of_threads(fn, shape, default_training):
    f = getattr(F, fn)
    x = deepcore.randn(*shape)
    outs = []
    for threads in (1, 2):
        deepcore.set_num_threads(threads)
        deepcore.manual_seed(77)
        outs.append(f(x, 0.5, training=True).numpy().copy())
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(f(x, 0.5, training=True).numpy(), outs[0])  # the stream moves on


@pytest.mark.parametrize("fn,shape,default_training", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variants_refuse_bad_arguments(fn, shape, default_training):
    f = getattr(F, fn)
    for p in (-0.1, 1.5):
        with raises(ValueError, "dropout probability has to be between 0 and 1", str(p)):
            f(deepcore.ones(*shape), p, training=True)
    state = deepcore.get_rng_state()
    with raises(TypeError, "float32 or float64"):
        f(deepcore.ones(*shape, dtype=deepcore.int64), 0.5, training=True)
    assert deepcore.get_rng_state() == state  # a refused call draws nothing


@pytest.mark.parametrize("fn,shape,default_training", VARIANTS + [("dropout", (5, 6), True)],
                         ids=[v[0] for v in VARIANTS] + ["dropout"])
def test_variants_in_place(fn, shape, default_training, rng):
    f = getattr(F, fn)
    base = rng.standard_normal(shape)
    leaf = deepcore.tensor(base, requires_grad=True)
    h = leaf * 1.0
    deepcore.manual_seed(3)
    assert f(h, 0.5, training=True, inplace=True) is h
    h.sum().backward()
    deepcore.manual_seed(3)
    other = deepcore.tensor(base, requires_grad=True)
    expected = f(other * 1.0, 0.5, training=True)
    expected.sum().backward()
    assert_close(h.detach().numpy(), expected.detach().numpy(), 0, 0, f"{fn} in place")
    assert_close(leaf.grad.numpy(), other.grad.numpy(), 0, 0, f"{fn} in place: gradient")
    with raises(RuntimeError, "leaf Variable"):
        f(deepcore.ones(*shape, requires_grad=True), 0.5, training=True, inplace=True)


@pytest.mark.parametrize("cls,fn", [("Dropout1d", "dropout1d"), ("Dropout2d", "dropout2d"), ("Dropout3d", "dropout3d"),
                                    ("AlphaDropout", "alpha_dropout"), ("FeatureAlphaDropout", "feature_alpha_dropout")])
def test_dropout_modules(cls, fn, torch):
    layer = getattr(nn, cls)(0.25)
    assert repr(layer) == repr(getattr(torch.nn, cls)(0.25))
    assert repr(getattr(nn, cls)(0.1, inplace=True)) == repr(getattr(torch.nn, cls)(0.1, inplace=True))
    x = deepcore.randn(*{"Dropout3d": (4, 6, 3, 3, 2), "Dropout2d": (4, 6, 3, 3)}.get(cls, (4, 6, 5)))
    deepcore.manual_seed(8)
    a = layer(x).numpy().copy()
    deepcore.manual_seed(8)
    assert np.array_equal(a, getattr(F, fn)(x, 0.25, training=True).numpy())
    layer.eval()
    assert layer(x) is x
    with raises(ValueError, "between 0 and 1"):
        getattr(nn, cls)(1.5)
