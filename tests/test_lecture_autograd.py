"""The lecture's autograd listing: runs as printed (import changed), its loss
falls the way PyTorch's does, and matches PyTorch step by step on identical data."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import deepcore

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def train(lib, x, y, w1, w2, steps=2000, learning_rate=1e-5):
    """The listing's loop, verbatim apart from taking its data as arguments."""
    x, y = lib.tensor(x), lib.tensor(y)
    w1, w2 = lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True)
    losses = []
    for _ in range(steps):
        h = x.mm(w1)
        phi = h.tanh()
        y_pred = phi.mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return np.array(losses)


def lecture_data(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in ((64, 3), (64, 2), (3, 4), (4, 2))]


@pytest.mark.parametrize("seed", [0, 1])
def test_loss_falls_to_the_targets_variance(seed):
    x, y, w1, w2 = lecture_data(seed)
    losses = train(deepcore, x, y, w1, w2)
    assert np.all(np.diff(losses) <= 1e-3), "with this small learning rate every step lowers the loss"
    # A linear least-squares fit of y on tanh features cannot beat the residual
    # of y's best linear fit on 4 features; the floor is well above zero.
    assert losses[-1] < 0.75 * losses[0]
    assert 40 < losses[-1] < 2 * float((y ** 2).sum())


def test_matches_pytorch_on_identical_data():
    torch = pytest.importorskip("torch")
    data = lecture_data(0)
    ours = train(deepcore, *data)
    theirs = train(torch, *data)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)


def test_example_script_runs_and_saves_its_plot(tmp_path):
    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="agg", DEEPCORE_FIGURE_DIR=str(tmp_path))
    env.pop("DISPLAY", None)
    script = os.path.join(EXAMPLES, "autograd_example.py")
    png = os.path.join(tmp_path, "autograd_example.png")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    m = re.search(r"loss: first ([\d.]+), last ([\d.]+)", out.stdout)
    assert m, out.stdout
    first, last = float(m.group(1)), float(m.group(2))
    assert last < first
    assert os.path.getsize(png) > 1000
