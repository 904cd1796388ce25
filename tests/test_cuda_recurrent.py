"""The CUDA recurrent cells (csrc/cuda/recurrent.cu) against their CPU twins (csrc/cpu/recurrent.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible (tests/cuda_twin.py):
one step forward and backward of the RNN (tanh, relu), LSTM and GRU cells (sigmoid and hard_sigmoid
gates, PyTorch's and Keras' block orders), at odd sizes, with strided rows (a time step's slice of an
all-steps buffer), both precisions; and the same refusals as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, to_dev, to_np

RNG = np.random.default_rng(1501)
SIZES = [(1, 1), (3, 5), (7, 33), (2, 130)]  # (batch, hidden): a thread block edge at 128


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


def _both(engine, name, arrays, *args):
    """The kernel `name` on the CPU and on the CUDA engine: lists of NumPy outputs."""
    got_cpu = getattr(C, name)(*[cpu(a) for a in arrays], *args)
    got_dev = getattr(engine, name)(*[to_dev(engine, a) for a in arrays], *args)
    return [C.to_numpy(a) for a in _as_list(got_cpu)], [to_np(engine, a) for a in _as_list(got_dev)]


def _as_list(result):
    return list(result) if isinstance(result, tuple) else [result]


def _close(a_list, b_list, dtype):
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(a_list, b_list):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


def _strided(x):
    """x as every other row of a buffer twice its height: a step's slice with a row stride."""
    buf = np.zeros((2 * x.shape[0], x.shape[1]), x.dtype)
    buf[::2] = x
    return buf[::2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell(engine, dtype, size, nonlinearity):
    b, h = size
    gx, gh = (RNG.normal(size=(b, h)).astype(dtype) for _ in range(2))
    _close(*_both(engine, "rnn_cell_forward", [gx, gh], nonlinearity), dtype)
    out = np.tanh(gx + gh) if nonlinearity == "tanh" else np.maximum(gx + gh, 0)
    grad = RNG.normal(size=(b, h)).astype(dtype)
    _close(*_both(engine, "rnn_cell_backward", [grad, out.astype(dtype)], nonlinearity), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("ract,order", [("sigmoid", [0, 1, 2, 3]), ("hard_sigmoid", [2, 0, 3, 1])])
def test_lstm_cell(engine, dtype, size, ract, order):
    b, h = size
    gx, gh = (RNG.normal(size=(b, 4 * h)).astype(dtype) for _ in range(2))
    c = RNG.normal(size=(b, h)).astype(dtype)
    (hc, cc, gates_c), (hd, cd, gates_d) = _both(engine, "lstm_cell_forward", [_strided(gx), gh, c], order, ract)
    _close([hc, cc, gates_c], [hd, cd, gates_d], dtype)
    grad_h, grad_c = (RNG.normal(size=(b, h)).astype(dtype) for _ in range(2))
    _close(*_both(engine, "lstm_cell_backward", [grad_h, grad_c, _strided(gates_c), c], order, ract), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("ract,order", [("sigmoid", [0, 1, 2]), ("hard_sigmoid", [1, 0, 2])])
def test_gru_cell(engine, dtype, size, ract, order):
    b, h = size
    gx, gh = (RNG.normal(size=(b, 3 * h)).astype(dtype) for _ in range(2))
    prev = RNG.normal(size=(b, h)).astype(dtype)
    (hc, gates_c), (hd, gates_d) = _both(engine, "gru_cell_forward", [gx, _strided(gh), prev], order, ract)
    _close([hc, gates_c], [hd, gates_d], dtype)
    grad = RNG.normal(size=(b, h)).astype(dtype)
    _close(*_both(engine, "gru_cell_backward", [grad, gates_c, prev], order, ract), dtype)


def test_the_same_refusals_as_the_cpu(engine):
    gx, gh = np.ones((2, 8), np.float32), np.ones((2, 4), np.float32)
    for mod, to in ((C, cpu), (engine, lambda a: to_dev(engine, a))):
        with pytest.raises(ValueError):
            mod.rnn_cell_forward(to(gx), to(gh), "tanh")  # gx and gh differ in shape
        with pytest.raises(ValueError):
            mod.rnn_cell_forward(to(gh), to(gh), "sigmoid")  # not a nonlinearity the kernel has
        with pytest.raises(ValueError):
            mod.lstm_cell_forward(to(gx), to(gx), to(np.ones((2, 2), np.float32)), [0, 1, 2, 2], "sigmoid")
