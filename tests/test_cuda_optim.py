"""The CUDA optimizer updates (csrc/cuda/optim.cu) against their CPU twins (csrc/cpu/optim.cpp).

On the host launch emulator on every CI run, and on a real GPU when one is visible
(tests/cuda_twin.py): SGD (momentum, dampening, Nesterov, weight decay, maximize), RMSprop
(centered, momentum), Adagrad (lr decay), Adadelta, Adam and AdamW (amsgrad), three steps on a
group of parameters of odd and empty sizes in both precisions; the CPU step counters; the same
errors as the CPU.
"""
import numpy as np
import pytest
from cuda_twin import ENGINES, C, cpu, load_engine, to_dev, to_np

RNG = np.random.default_rng(1418)


@pytest.fixture(params=ENGINES)
def engine(request):
    return load_engine(request.param)


# (No empty parameter: deepcore._C.from_numpy gives a (0,) array strides the CPU kernels call non-contiguous.)
SHAPES = [(3, 5), (257,), (7,), (1,), (2, 33)]

# (kernel, number of state lists, keyword arguments, takes step counters)
CASES = [
    ("sgd", 0, dict(momentum_buffers=[], buffer_is_new=[], lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
                    nesterov=False, maximize=False), False),
    ("sgd", 1, dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=True, maximize=True), False),
    ("rmsprop", 3, dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True,
                        maximize=False), True),
    ("adagrad", 1, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=1e-10, maximize=False), True),
    ("adadelta", 2, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=True), True),
    ("adam", 3, dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=True, maximize=False,
                     decoupled_weight_decay=False), True),
    ("adam", 2, dict(max_exp_avg_sqs=[], lr=1e-3, beta1=0.8, beta2=0.99, eps=1e-8, weight_decay=0.1, amsgrad=False,
                     maximize=False, decoupled_weight_decay=True), True),
]


def _three_steps(mod, to, back, case, params, grads, states):
    """Three updates by `mod` (deepcore._C or a CUDA engine): final parameters, states and step counts."""
    name, n_states, kwargs, with_steps = case
    p = [to(x) for x in params]
    s = [[to(x) for x in group] for group in states]
    steps = [C.full([], 0.0, C.DType.float32) for _ in params]
    for k in range(3):
        g = [to(x) for x in grads[k]]
        kw = dict(kwargs)
        lists = list(s)
        if name == "sgd" and n_states:  # SGD's momentum buffers are fresh on the first step only
            kw.update(momentum_buffers=lists.pop(0), buffer_is_new=[k == 0] * len(p))
        if with_steps:
            kw["steps"] = steps
        getattr(mod, name + "_step")(p, g, *lists, **kw)
    arrays = [back(x) for x in p] + [back(x) for group in s for x in group]
    return arrays, [float(C.to_numpy(t)) for t in steps]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}states")
def test_updates_match_the_cpu(engine, case, dtype):
    params = [np.asarray(RNG.standard_normal(s), dtype) for s in SHAPES]
    grads = [[np.asarray(RNG.standard_normal(s), dtype) for s in SHAPES] for _ in range(3)]
    # State tensors start positive (square averages, sums) so every root is defined.
    states = [[np.asarray(RNG.random(s) + 0.1, dtype) for s in SHAPES] for _ in range(case[1])]
    want, want_steps = _three_steps(C, cpu, C.to_numpy, case, params, grads, states)
    got, got_steps = _three_steps(engine, lambda x: to_dev(engine, x), lambda a: to_np(engine, a), case, params, grads,
                                  states)
    assert got_steps == want_steps == ([3.0] * len(SHAPES) if case[3] else [0.0] * len(SHAPES))
    tol = 4e-6 if dtype == np.float32 else 1e-12
    for g, w, x0 in zip(got, want, params + [x for group in states for x in group]):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
        assert x0.size == 0 or not np.array_equal(g, x0)  # the update did something


def test_errors_are_the_cpus(engine):
    p = to_dev(engine, np.zeros((2, 3), np.float32))
    g = to_dev(engine, np.zeros((2, 3), np.float32))
    steps = [C.full([], 0.0, C.DType.float32)]
    with pytest.raises(ValueError, match="1 parameters but 2 gradients"):
        engine.sgd_step([p], [g, g], [], [], 0.1, 0.0, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        engine.sgd_step([p], [g], [], [], 0.1, 0.0, 0.0, 0.0, True, False)
    with pytest.raises(ValueError, match="has shape"):
        engine.adagrad_step([p], [to_dev(engine, np.zeros(6, np.float32))], [g], steps, 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(TypeError, match="float64"):
        engine.adagrad_step([p], [to_dev(engine, np.zeros((2, 3)))], [g], steps, 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(ValueError, match="shares memory"):
        engine.adagrad_step([p], [g], [p], steps, 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(ValueError, match="must live on the CPU"):
        engine.adagrad_step([p], [g], [g], [to_dev(engine, np.zeros((), np.float32))], 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(ValueError, match="runs on CUDA"):
        engine.sgd_step([cpu(np.zeros(3, np.float32))], [g], [], [], 0.1, 0.0, 0.0, 0.0, False, False)
