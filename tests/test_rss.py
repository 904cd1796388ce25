"""Resident memory stays flat over long runs: 10,000 training steps of a small MLP, 10,000 graphs
built and dropped without backward, and (medium) a model whose buffers go through the CPU block
cache.

Each run happens in a fresh interpreter (so nothing else the test session holds moves the figure)
with the cyclic garbage collector off: memory must come back by reference counting alone, as it
does in PyTorch, not wait for the collector. The child reads its RSS from /proc/self/statm after a
warm-up and again at the half and at the end, then counts what gc.collect() finds unreachable.

The warm-up is 2,500 steps because the interpreter's own memory settles that late: its free lists
fill over the first ~1,000 steps (a page every ~20 steps) and RSS rises once by ~0.5 MiB near step
2,270, whatever the model. Measured after it on the 2-core test machine (docs/hardening.md): RSS
43-44 MiB, growth over the next 10,000 steps 0.0 MiB, cyclic garbage 0 objects, in every scenario.
The bounds leave a wide margin for other machines yet catch a leak of a few hundred bytes a step.
"""
import json
import os
import subprocess
import sys

import numpy as np

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc")

TOTAL_GROWTH_MIB = 4.0   # warm-up to the last step; a 420-byte-a-step leak crosses it
LATE_GROWTH_MIB = 1.0    # second half alone: the steady state must add (almost) nothing
CYCLIC_GARBAGE = 100     # a cycle made per step would leave at least 10,000 objects

CHILD = r"""
import gc, json, os, sys
import deepcore
from deepcore import nn
from deepcore.nn import functional as F

scenario, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deepcore.set_num_threads(1)  # the figure does not depend on it; one thread keeps a shared machine fast
deepcore.manual_seed(0)
page = os.sysconf("SC_PAGE_SIZE")


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page / 2 ** 20


def mlp(sizes, batch):
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    return model, deepcore.randn(batch, sizes[0]), deepcore.randint(0, sizes[-1], (batch,))


if scenario in ("train", "graphs"):
    model, x, y = mlp([20, 64, 10], 32)
elif scenario == "train_cached":  # 64 KiB weights, activations and gradients: the block cache's minimum
    model, x, y = mlp([128, 128, 128, 10], 128)
opt = deepcore.optim.SGD(model.parameters(), lr=0.01) if scenario != "fresh_leaves" else None


def step():
    if scenario in ("train", "train_cached"):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    elif scenario == "graphs":
        F.cross_entropy(model(x), y)  # recorded, then dropped without backward
    elif scenario == "fresh_leaves":
        w = deepcore.randn(32, 32, requires_grad=True)  # a new leaf in every graph
        (w * 2.0).sum()


gc.collect()
gc.disable()
for _ in range(warmup):
    step()
start = rss_mib()
for i in range(steps):
    step()
    if i + 1 == steps // 2:
        half = rss_mib()
end = rss_mib()
print(json.dumps({"warm_mib": start, "total_growth_mib": end - start, "late_growth_mib": end - half,
                  "cyclic_garbage": gc.collect()}))
"""


def measure(scenario, steps=10_000, warmup=2_500):
    proc = subprocess.run([sys.executable, "-c", CHILD, scenario, str(steps), str(warmup)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_flat(figures, what):
    summary = (f"{what}: warm {figures['warm_mib']:.1f} MiB, grew {figures['total_growth_mib']:.2f} MiB "
               f"(second half {figures['late_growth_mib']:.2f}), {figures['cyclic_garbage']} objects left to the "
               f"cyclic collector")
    assert figures["total_growth_mib"] < TOTAL_GROWTH_MIB, summary
    assert figures["late_growth_mib"] < LATE_GROWTH_MIB, summary
    assert figures["cyclic_garbage"] < CYCLIC_GARBAGE, summary


def test_rss_is_flat_over_10000_training_steps():
    assert_flat(measure("train"), "MLP 20-64-10, batch 32, SGD, 10,000 steps")


def test_rss_is_flat_over_10000_graphs_dropped_without_backward():
    assert_flat(measure("graphs"), "10,000 forward graphs dropped without backward")


def test_rss_is_flat_when_buffers_go_through_the_block_cache():
    assert_flat(measure("train_cached", steps=3_000), "MLP 128-128-128-10, batch 128, 3,000 steps")


def test_fresh_leaves_are_freed_without_the_cyclic_collector():
    """Issue 17's leaf <-> AccumulateGrad cycle: while the sink held its leaf strongly, every fresh
    leaf used in a graph waited for the cyclic collector (2 objects a leaf; with the collector off
    RSS grew ~16 MiB per 1,000 such 32x32 leaves)."""
    assert_flat(measure("fresh_leaves"), "10,000 fresh 32x32 leaves, each in a graph dropped without backward")


@pytest.mark.parametrize("op", ["relu", "sigmoid", "tanh", "exp", "softmax"])
def test_ops_that_save_their_output_leave_no_cycle(op):
    """An op whose backward reads its own output (relu, sigmoid, tanh, exp, softmax) once made the cycle
    output -> node -> saved output, so each such graph waited for the cyclic collector (the 'graphs'
    scenario above grew 112 MiB over 10,000 steps). The saved output is now weak to its node."""
    import gc
    import weakref

    import deepcore

    fn = {"softmax": lambda t: deepcore.softmax(t, dim=-1)}.get(op, getattr(deepcore, op, None))
    gc.collect()
    gc.disable()
    try:
        x = deepcore.randn(4, 5, requires_grad=True)
        y = fn(x)
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None, f"{op}: the graph of a dropped output is alive until the cyclic collector runs"
    finally:
        gc.enable()
    y = fn(x)
    g = np.random.default_rng(0).standard_normal((4, 5))
    y.backward(deepcore.tensor(g.astype(np.float32)))  # the unpacked output still gives the right gradient
    a, out = x.detach().numpy().astype(np.float64), y.detach().numpy().astype(np.float64)
    expected = {"relu": g * (a > 0), "sigmoid": g * out * (1 - out), "tanh": g * (1 - out ** 2), "exp": g * out,
                "softmax": out * (g - (g * out).sum(-1, keepdims=True))}[op]
    assert np.abs(x.grad.numpy() - expected).max() < 1e-5
