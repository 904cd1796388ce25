"""Python threads calling deepcore at once: separate models trained in threads, one shared model
doing inference under no_grad, backward in threads, set_num_threads while others compute, the
random stream, DataLoaders with worker processes and Keras fit, each against the same work done
on one thread.

Results are compared bitwise: every CPU kernel splits its work by fixed blocks, so its bits do not
depend on how many threads run it or on which thread calls it (tests/test_determinism.py checks
1 against 2 threads). Every thread is joined with a timeout, so a deadlock fails the test instead
of hanging the run."""
import threading
import time

import numpy as np
import pytest

import deepcore
from deepcore import keras, nn
from deepcore.data import DataLoader, RandomSampler, TensorDataset
from deepcore.nn import functional as F

JOIN_SECONDS = 120  # generous: the test machine may be shared; a deadlock still fails


def run_threads(*fns, timeout=JOIN_SECONDS):
    """Runs each zero-argument callable on its own thread, all released together by a barrier;
    returns their results in order, re-raises the first exception, fails if any thread is still
    running after `timeout` seconds (a deadlock)."""
    results, errors = [None] * len(fns), [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def body(k):
        try:
            barrier.wait(timeout)
            results[k] = fns[k]()
        except BaseException as e:  # noqa: BLE001 - handed to the test thread below
            errors[k] = e

    threads = [threading.Thread(target=body, args=(k,), daemon=True, name=f"deepcore-test-{k}")
               for k in range(len(fns))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {timeout} s (deadlock?): {stuck}"
    for e in errors:
        if e is not None:
            raise e
    return results


def arrays(tensors):
    return [t.detach().numpy().copy() for t in tensors]


def assert_same_bits(got, want, what):
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, f"{what}[{k}]: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        assert np.array_equal(g, w), f"{what}[{k}]: differs by up to {np.max(np.abs(g - w))}"


# ---- models, sized so their GEMMs, convolutions and elementwise kernels split across threads ----

class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)), (64, 64)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(8 * 6 * 6, 10)), (16, 1, 12, 12)),
    "lstm": (LSTMClassifier, (16, 6, 8)),
}


def training_job(kind, rng, steps=8):
    """A fresh model's initial weights and its batches, made on the calling thread (so the global
    random stream is drawn in a fixed order), and a function that trains a copy and returns the
    loss curve and final weights."""
    build, shape = MODELS[kind]
    deepcore.manual_seed(11)
    state = build().state_dict()
    batches = [(deepcore.tensor(rng.standard_normal(shape).astype(np.float32)),
                deepcore.tensor(rng.integers(0, 10, shape[0]))) for _ in range(steps)]

    def train():
        model = build()
        model.load_state_dict(state)
        opt = deepcore.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for x, y in batches:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, arrays(model.parameters())
    return train


def assert_same_training(got, want, what):
    assert got[0] == want[0], f"{what}: loss curves differ: {got[0]} vs {want[0]}"
    assert_same_bits(got[1], want[1], f"{what} weights")


# ---- training and inference -------------------------------------------------------------------------

def test_separate_models_trained_in_threads_match_one_thread(rng):
    jobs = {kind: training_job(kind, rng) for kind in MODELS}
    want = {kind: job() for kind, job in jobs.items()}
    kinds = list(MODELS) * 2  # two threads per model kind, six at once
    for _ in range(2):
        got = run_threads(*(jobs[k] for k in kinds))
        for kind, result in zip(kinds, got):
            assert_same_training(result, want[kind], kind)


def test_shared_model_inference_under_no_grad_in_threads(rng):
    deepcore.manual_seed(5)
    model = MODELS["cnn"][0]().eval()
    inputs = [[deepcore.tensor(rng.standard_normal((16, 1, 12, 12)).astype(np.float32)) for _ in range(3)]
              for _ in range(4)]
    with deepcore.no_grad():
        want = [arrays(model(x) for x in xs) for xs in inputs]

    def infer(xs):
        outs = []
        for _ in range(3):
            with deepcore.no_grad():
                out = [model(x) for x in xs]
            assert not any(o.requires_grad for o in out), "no_grad on this thread must hold for its outputs"
            outs = arrays(out)
        return outs

    got = run_threads(*(lambda xs=xs: infer(xs) for xs in inputs))
    for k, (g, w) in enumerate(zip(got, want)):
        assert_same_bits(g, w, f"inference thread {k}")


def test_grad_mode_is_per_thread(rng):
    """One thread's no_grad must not switch recording off for a thread training at the same time
    (PyTorch's grad mode is thread-local too)."""
    deepcore.manual_seed(5)
    model = MODELS["mlp"][0]()
    x = deepcore.tensor(rng.standard_normal((64, 64)).astype(np.float32))
    y = deepcore.tensor(rng.integers(0, 10, 64))
    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with deepcore.no_grad():
            inside.set()
            assert release.wait(JOIN_SECONDS)
            return deepcore.is_grad_enabled()

    def train_while_held():
        assert inside.wait(JOIN_SECONDS)
        try:
            xr = x.detach().requires_grad_()
            loss = F.cross_entropy(model(xr), y)
            recorded = loss.grad_fn is not None
            loss.backward()
            return recorded, xr.grad.numpy().copy()
        finally:
            release.set()

    held, (recorded, grad) = run_threads(hold_no_grad, train_while_held)
    assert held is False and recorded
    xr = x.detach().requires_grad_()
    F.cross_entropy(model(xr), y).backward()
    assert_same_bits([grad], [xr.grad.numpy()], "input gradient")
    assert deepcore.is_grad_enabled()


def test_backward_in_threads_on_separate_graphs(rng):
    """Each thread differentiates its own graph (its own leaves) with backward and autograd.grad."""
    weights = [rng.standard_normal((128, 64)).astype(np.float32) for _ in range(4)]
    x = deepcore.tensor(rng.standard_normal((64, 64)).astype(np.float32))

    def grads(w_np):
        w = deepcore.tensor(w_np, requires_grad=True)
        h = deepcore.tanh(x @ w.t())
        (h * h).sum().backward()
        second, = deepcore.autograd.grad(deepcore.sigmoid(x @ w.t()).sum(), [w])
        return [w.grad.numpy().copy(), second.numpy().copy()]

    want = [grads(w) for w in weights]
    for _ in range(3):
        got = run_threads(*(lambda w=w: grads(w) for w in weights))
        for k, (g, wn) in enumerate(zip(got, want)):
            assert_same_bits(g, wn, f"gradients of thread {k}")


def test_autograd_grad_on_a_shared_model_in_threads(rng):
    deepcore.manual_seed(5)
    model = MODELS["mlp"][0]()
    params = list(model.parameters())
    batches = [(deepcore.tensor(rng.standard_normal((64, 64)).astype(np.float32)),
                deepcore.tensor(rng.integers(0, 10, 64))) for _ in range(4)]

    def grads(x, y):
        return arrays(deepcore.autograd.grad(F.cross_entropy(model(x), y), params))

    want = [grads(x, y) for x, y in batches]

    def repeat(x, y):
        return [grads(x, y) for _ in range(10)]

    for _ in range(5):
        got = run_threads(*(lambda b=b: repeat(*b) for b in batches))
        for k, runs in enumerate(got):
            for g in runs:
                assert_same_bits(g, want[k], f"autograd.grad in thread {k}")


def test_autograd_grad_collects_per_call_for_leaves_and_intermediates():
    """The per-call collection that makes autograd.grad thread-safe also answers for non-leaf inputs
    (PyTorch does; filling .grad could not), and refuses an input that does not require grad."""
    x = deepcore.tensor([1.0, -2.0, 3.0], dtype=deepcore.float64, requires_grad=True)
    h = x * 2
    gh, gx = deepcore.autograd.grad((h * h).sum(), [h, x])
    assert gh.tolist() == [4.0, -8.0, 12.0] and gx.tolist() == [8.0, -16.0, 24.0]
    assert x.grad is None and h.grad is None
    unused = deepcore.zeros(2, requires_grad=True)
    assert deepcore.autograd.grad((x * 3).sum(), [x, unused])[1] is None  # not reached: None, as before
    with pytest.raises(RuntimeError, match="autograd.grad: input 0 does not require grad"):
        deepcore.autograd.grad((x * 3).sum(), [deepcore.zeros(3)])


def test_concurrent_backward_into_a_shared_leaf_accumulates_every_gradient():
    # 4 MiB gradients keep each in-place add long enough for the threads' adds to overlap: about
    # half the rounds lose an update today, so 25 rounds all passing by luck has odds below 1e-6.
    w = deepcore.zeros(1024, 1024, requires_grad=True)
    ones = deepcore.ones(1024, 1024)

    def backward_many():
        for _ in range(10):
            (w * ones).sum().backward()

    for _ in range(25):
        w.grad = None
        run_threads(*[backward_many] * 4)
        values = np.unique(w.grad.numpy())
        assert values.tolist() == [40.0], f"every element should have 4 threads x 10 backwards = 40, got {values}"


# ---- threads, the thread count and the random stream ---------------------------------------------------

def test_set_num_threads_while_other_threads_compute(rng):
    """One thread keeps changing the CPU thread count while three others run threaded kernels
    (GEMM, convolution forward and backward, long reductions); nothing crashes and every result
    keeps its bits, since the kernels' blocking does not depend on the thread count."""
    a = deepcore.tensor(rng.standard_normal((192, 256)).astype(np.float32))
    b = deepcore.tensor(rng.standard_normal((256, 160)).astype(np.float32))
    img = deepcore.tensor(rng.standard_normal((32, 4, 16, 16)).astype(np.float32))
    kernel = deepcore.tensor(rng.standard_normal((8, 4, 3, 3)).astype(np.float32))
    long = deepcore.tensor(rng.standard_normal(1 << 18).astype(np.float32))

    def gemm():
        return [a @ b, (a.t().contiguous().t() @ b).relu()]

    def conv():
        k = kernel.detach().requires_grad_()
        out = F.conv2d(img, k, padding=1)
        out.square().sum().backward()
        return [out, k.grad]

    def reductions():
        return [long.sum(), long.square().mean(), F.softmax(long.reshape(512, 512), 1).sum(0)]

    work = {"gemm": gemm, "conv": conv, "reductions": reductions}
    want = {name: arrays(fn()) for name, fn in work.items()}
    stop = threading.Event()

    def toggle():
        changes = 0
        while not stop.is_set():
            deepcore.set_num_threads(changes % 4 + 1)
            assert 1 <= deepcore.get_num_threads() <= 4
            changes += 1
        return changes

    def compute(name):
        try:
            for _ in range(6):
                assert_same_bits(arrays(work[name]()), want[name], name)
        finally:
            stop.set()

    changes, *_ = run_threads(toggle, *(lambda n=n: compute(n) for n in work))
    assert changes > 0


def test_random_draws_from_threads_share_one_stream_without_overlap():
    """Each draw reserves its own counters of the one Philox stream under a lock: threads drawing
    at once get exactly the chunks one thread would, in some order, never the same chunk twice."""
    deepcore.manual_seed(7)
    want = [deepcore.rand(1024).numpy().tobytes() for _ in range(100)]
    deepcore.manual_seed(7)
    got = run_threads(*[lambda: [deepcore.rand(1024).numpy().tobytes() for _ in range(25)]] * 4)
    assert sorted(c for chunks in got for c in chunks) == sorted(want)


def test_a_private_generator_leaves_other_threads_draws_alone():
    data = list(range(1000))
    want = RandomSampler(data, generator=5)._index_tensor().tolist()
    stop = threading.Event()

    def draw():
        chunks = []
        while not stop.is_set():
            chunks.append(deepcore.rand(1024).numpy().tobytes())
        return chunks

    def permute():
        try:
            return [RandomSampler(data, generator=5)._index_tensor().tolist() for _ in range(200)]
        finally:
            stop.set()

    chunks, perms = run_threads(draw, permute)
    assert len(set(chunks)) == len(chunks), "some thread got the same random numbers twice"
    assert all(p == want for p in perms), "a generator-seeded permutation changed"


def generator_draws(g):
    """A mix of every kind of draw, from `g` (None: the global stream), as bytes."""
    out = []
    for k in range(10):
        out += [deepcore.rand(257, generator=g), deepcore.randn(64, dtype=deepcore.float64, generator=g),
                deepcore.randint(0, 1000, (33,), generator=g), deepcore.randperm(100 + k, generator=g),
                deepcore.multinomial(deepcore.ones(2, 50), 20, generator=g),
                deepcore.empty(5, 7).normal_(generator=g), deepcore.empty(40).bernoulli_(0.5, generator=g)]
    return [t.numpy().tobytes() for t in out]


def test_generators_in_threads_give_their_single_thread_draws():
    """Threads with a Generator each, and one drawing from the global stream meanwhile: every thread
    gets exactly the numbers it gets alone, since no draw touches another stream."""
    want = [generator_draws(deepcore.Generator().manual_seed(k)) for k in range(4)]
    deepcore.manual_seed(3)
    want_global = generator_draws(None)
    for _ in range(3):
        deepcore.manual_seed(3)
        *got, got_global = run_threads(*(lambda k=k: generator_draws(deepcore.Generator().manual_seed(k))
                                         for k in range(4)), lambda: generator_draws(None))
        assert got == want, "a thread's generator draws changed while other threads drew"
        assert got_global == want_global, "the global stream's draws changed while generators drew"


def test_one_generator_shared_by_threads_hands_out_disjoint_chunks():
    g = deepcore.Generator().manual_seed(7)
    want = [deepcore.rand(1024, generator=g).numpy().tobytes() for _ in range(100)]
    g.manual_seed(7)
    got = run_threads(*[lambda: [deepcore.rand(1024, generator=g).numpy().tobytes() for _ in range(25)]] * 4)
    assert sorted(c for chunks in got for c in chunks) == sorted(want)


# ---- data loading and Keras ---------------------------------------------------------------------------

def loader_batches(loader):
    return [(x.numpy().copy(), y.numpy().copy()) for x, y in loader]


def test_dataloader_with_workers_while_other_threads_train(rng):
    """Worker processes are forked while other threads are inside kernels: the batches are those of
    num_workers=0 and the training is undisturbed. timeout= turns a stuck worker into an error."""
    data = TensorDataset(deepcore.tensor(rng.standard_normal((96, 20)).astype(np.float32)), deepcore.arange(96))
    want_batches = loader_batches(DataLoader(data, batch_size=8))
    jobs = [training_job(kind, rng) for kind in ("mlp", "cnn")]
    want_training = [job() for job in jobs]

    def load():
        return [loader_batches(DataLoader(data, batch_size=8, num_workers=2, timeout=JOIN_SECONDS))
                for _ in range(2)]

    loaded, *trained = run_threads(load, *jobs)
    for batches in loaded:
        assert len(batches) == len(want_batches)
        for (x, y), (wx, wy) in zip(batches, want_batches):
            assert_same_bits([x, y], [wx, wy], "batch")
    for got, want in zip(trained, want_training):
        assert_same_training(got, want, "training beside the loader")


def test_dataloaders_with_workers_in_two_threads(rng):
    sets = [TensorDataset(deepcore.tensor(rng.standard_normal((64, 12)).astype(np.float32)), deepcore.arange(64))
            for _ in range(2)]
    want = [loader_batches(DataLoader(d, batch_size=16)) for d in sets]
    got = run_threads(*(lambda d=d: loader_batches(DataLoader(d, batch_size=16, num_workers=2,
                                                              timeout=JOIN_SECONDS)) for d in sets))
    for g, w in zip(got, want):
        assert_same_bits([a for batch in g for a in batch], [a for batch in w for a in batch], "batches")


def keras_model():
    deepcore.manual_seed(4)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    return model


def test_keras_models_fit_and_predict_in_threads(rng):
    """Separate Keras models fit in threads (shuffle=False: Keras shuffles with NumPy's global
    generator, whose order between threads is the scheduler's), then one model predicts from four
    threads at once."""
    x = rng.standard_normal((256, 20)).astype(np.float32)
    y = rng.integers(0, 10, 256)

    def fit(model):
        history = model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
        return history.history["loss"], model.get_weights()

    want = fit(keras_model())
    models = [keras_model() for _ in range(3)]  # built here: layer creation draws from the global stream
    for loss, weights in run_threads(*(lambda m=m: fit(m) for m in models)):
        assert loss == want[0]
        assert_same_bits(weights, want[1], "keras weights")

    shared = models[0]
    parts = [x[k * 64:(k + 1) * 64] for k in range(4)]
    want_pred = [shared.predict(p, verbose=0) for p in parts]
    got_pred = run_threads(*(lambda p=p: shared.predict(p, verbose=0) for p in parts))
    assert_same_bits(got_pred, want_pred, "keras predictions")
