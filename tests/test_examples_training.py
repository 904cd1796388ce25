"""The training examples run as scripts and print what they promise."""
import os
import re
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run(script, *args, timeout=600):
    env = dict(os.environ, MPLBACKEND="agg")
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                         env=env, cwd=EXAMPLES, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def test_perceptron_converges_on_separable_data_but_not_on_xor():
    pytest.importorskip("matplotlib")
    out = run("perceptron.py")
    assert "separable set: converged" in out
    assert "XOR, single-layer perceptron: cannot converge" in out
    assert "XOR, MLP 2-4-1: solved" in out
    assert os.path.getsize(os.path.join(EXAMPLES, "perceptron.png")) > 1000


def test_pytorch_mnist_mlp_listing_learns_in_one_epoch():
    out = run("pytorch_mnist_mlp.py", "--epochs", "1", "--log-interval", "200")
    m = re.search(r"Accuracy: (\d+)/10000", out)
    assert m, out[-2000:]
    assert int(m.group(1)) > 8500, out[-500:]
