"""Shared fixtures for deepcore's test suite.

* ``rng``: a NumPy Generator seeded from the test's id, so every test draws
  its own reproducible numbers (and reordering tests changes nothing).
* ``torch``: the PyTorch module, or a skip when it is not installed.
* every test starts from a known global state (seed, grad mode, anomaly mode,
  thread count) and that state is restored afterwards.
"""
import zlib

import numpy as np
import pytest

import deepcore


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _clean_global_state():
    threads = deepcore.get_num_threads()
    deepcore.manual_seed(0)
    deepcore.autograd._set_grad_enabled(True)
    deepcore.autograd.set_detect_anomaly(False)
    yield
    deepcore.autograd._set_grad_enabled(True)
    deepcore.autograd.set_detect_anomaly(False)
    deepcore.set_num_threads(threads)
