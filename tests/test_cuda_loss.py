"""The CUDA loss family (csrc/cuda/loss.cu) against its CPU twin (csrc/cpu/loss.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): cross-entropy (class weights, ignore_index, label smoothing, spatial
targets, huge logits), NLL, MSE, L1, BCE and BCE with logits (weights, pos_weight), forward and
backward for every reduction, on odd sizes, class counts around the warp and block widths and
empty batches; and the same errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, assert_twin, cpu, load_engine, random_array, to_dev, to_np

RNG = np.random.default_rng(1416)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


REDUCTIONS = ("none", "mean", "sum")
# (input shape, classes at dim 1): (N, C) and (N, C, d1, d2); C around the warp and block widths.
CLASS_SHAPES = [(1, 1), (5, 3), (4, 31), (3, 33), (2, 257), (0, 4), (2, 3, 4, 5), (3, 5, 0)]


def _targets(shape, ignore_index):
    t = RNG.integers(0, shape[1], (shape[0], *shape[2:]))
    if t.size > 2:
        t.flat[1] = ignore_index  # one ignored row
    return np.asarray(t, np.int64)


def _dev_or_none(engine, w):
    return None if w is None else to_dev(engine, w)


def _cpu_or_none(w):
    return None if w is None else cpu(w)


def _scalar_close(got, want, dtype):
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
def test_cross_entropy_and_nll_match_the_cpu(engine, shape, dtype):
    x = random_array(RNG, shape, dtype) * 3
    target = _targets(shape, -100)
    for weight in (None, np.asarray(RNG.random(shape[1]) + 0.5, dtype)):
        for red in REDUCTIONS:
            for eps in (0.0, 0.1):
                args = (-100, eps, red)
                want, want_w = C.cross_entropy(cpu(x), cpu(target), _cpu_or_none(weight), *args)
                got, got_w = engine.cross_entropy(to_dev(engine, x), to_dev(engine, target),
                                                  _dev_or_none(engine, weight), *args)
                assert_twin(to_np(engine, got), C.to_numpy(want), rtol=4e-6 if dtype == np.float32 else None)
                _scalar_close(got_w, want_w, np.float64)
                g = random_array(RNG, target.shape if red == "none" else (), dtype)
                want_g = C.cross_entropy_backward(cpu(g), cpu(x), cpu(target), _cpu_or_none(weight), *args, want_w)
                got_g = engine.cross_entropy_backward(to_dev(engine, g), to_dev(engine, x), to_dev(engine, target),
                                                      _dev_or_none(engine, weight), *args, got_w)
                assert_twin(to_np(engine, got_g), C.to_numpy(want_g), rtol=4e-6 if dtype == np.float32 else None)
            # NLL of log-probabilities (any numbers do: it only picks and weights them).
            want, want_w = C.nll_loss(cpu(x), cpu(target), _cpu_or_none(weight), -100, red)
            got, got_w = engine.nll_loss(to_dev(engine, x), to_dev(engine, target), _dev_or_none(engine, weight),
                                         -100, red)
            assert_twin(to_np(engine, got), C.to_numpy(want))
            _scalar_close(got_w, want_w, np.float64)
            g = random_array(RNG, target.shape if red == "none" else (), dtype)
            assert_twin(to_np(engine, engine.nll_loss_backward(to_dev(engine, g), to_dev(engine, x),
                                                               to_dev(engine, target), _dev_or_none(engine, weight),
                                                               -100, red, got_w)),
                        C.to_numpy(C.nll_loss_backward(cpu(g), cpu(x), cpu(target), _cpu_or_none(weight), -100, red,
                                                       want_w)))


def test_cross_entropy_of_huge_and_infinite_logits(engine):
    x = np.array([[1e16, 0.0, -1e16], [3e38, 3e38, 0.0], [-np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0]], np.float32)
    t = np.array([0, 1, 2, 1], np.int64)
    with np.errstate(all="ignore"):
        want, _ = C.cross_entropy(cpu(x), cpu(t), None, -100, 0.0, "none")
        got, _ = engine.cross_entropy(to_dev(engine, x), to_dev(engine, t), None, -100, 0.0, "none")
        assert_twin(to_np(engine, got), C.to_numpy(want))


@pytest.mark.parametrize("kind", ["mse", "l1", "bce", "bce_with_logits"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (33,), (5, 7), (2, 3, 257)], ids=str)
def test_pointwise_losses_match_the_cpu(engine, kind, dtype, shape):
    x = random_array(RNG, shape, dtype)
    y = np.asarray(RNG.random(shape), dtype)
    if kind == "bce":
        x = np.asarray(RNG.random(shape), dtype)
        if x.size > 2:
            x.flat[0], x.flat[1] = 0.0, 1.0  # the clamped logs
    weights = [None, np.asarray(RNG.random(shape) + 0.5, dtype)]
    pos_weights = [None, np.asarray(RNG.random(shape) * 3, dtype)] if kind == "bce_with_logits" else [None]
    for w in weights:
        for pw in pos_weights:
            for red in REDUCTIONS:
                dev_args = (to_dev(engine, x), to_dev(engine, y), _dev_or_none(engine, w), _dev_or_none(engine, pw),
                            red)
                cpu_args = (cpu(x), cpu(y), _cpu_or_none(w), _cpu_or_none(pw), red)
                with np.errstate(all="ignore"):
                    assert_twin(to_np(engine, engine.pointwise_loss(kind, *dev_args)),
                                C.to_numpy(C.pointwise_loss(kind, *cpu_args)),
                                rtol=4e-6 if dtype == np.float32 else None)
                    g = random_array(RNG, shape if red == "none" else (), dtype)
                    assert_twin(to_np(engine, engine.pointwise_loss_backward(kind, to_dev(engine, g), *dev_args)),
                                C.to_numpy(C.pointwise_loss_backward(kind, cpu(g), *cpu_args)),
                                rtol=4e-6 if dtype == np.float32 else None)


def test_errors_are_the_cpus(engine):
    x = to_dev(engine, np.zeros((4, 3), np.float32))
    t = np.array([0, 2, 3, 1], np.int64)
    with pytest.raises(ValueError, match=r"target label 3 \(at flat index 2\) is out of range for 3 classes"):
        engine.cross_entropy(x, to_dev(engine, t), None, -100, 0.0, "mean")
    with pytest.raises(ValueError, match="target label 3"):
        engine.nll_loss(x, to_dev(engine, t), None, -100, "sum")
    t[2] = 1
    with pytest.raises(ValueError, match="reduction must be"):
        engine.cross_entropy(x, to_dev(engine, t), None, -100, 0.0, "avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        engine.cross_entropy(x, to_dev(engine, t), None, -100, 1.5, "mean")
    with pytest.raises(TypeError, match="int64"):
        engine.cross_entropy(x, to_dev(engine, t.astype(np.float32)), None, -100, 0.0, "mean")
    with pytest.raises(ValueError, match="needs a target of shape"):
        engine.nll_loss(x, to_dev(engine, t[:3]), None, -100, "mean")
    with pytest.raises(ValueError, match="one entry per class"):
        engine.nll_loss(x, to_dev(engine, t), to_dev(engine, np.ones(4, np.float32)), -100, "mean")
    bad = np.array([0.5, 1.5, -0.1], np.float32)
    with pytest.raises(ValueError, match=r"element 1 is 1\.5"):
        engine.pointwise_loss("bce", to_dev(engine, bad), to_dev(engine, np.zeros(3, np.float32)), None, None, "mean")
    with pytest.raises(ValueError, match="pos_weight is only for bce_with_logits"):
        v = to_dev(engine, np.zeros(3, np.float32))
        engine.pointwise_loss("mse", v, v, None, v, "mean")
    with pytest.raises(ValueError, match="unknown loss"):
        engine.pointwise_loss("huber", x, x, None, None, "mean")
    with pytest.raises(ValueError, match="gradient of shape"):
        engine.pointwise_loss_backward("mse", x, x, x, None, None, "mean")
