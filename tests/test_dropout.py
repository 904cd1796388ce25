"""Dropout family (F.dropout / nn.Dropout and their Philox mask) against the statistics of the mask, NumPy float64 gradients and gradcheck."""
import numpy as np
import pytest

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
from helpers import assert_close


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
