"""Autograd semantics: accumulation, graphs, grad modes, in-place rules, custom Functions, gradcheck."""
import numpy as np
import pytest

import deepcore
from deepcore.autograd import Function, GradcheckError, gradcheck
from helpers import assert_close, away_from_zero, check_op


def leaf(values, dtype=deepcore.float64):
    return deepcore.tensor(values, dtype=dtype, requires_grad=True)


# ---- accumulation and backward's arguments -----------------------------------------

def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_grad_is_a_separate_buffer():
    # The first gradient is copied into .grad: a later in-place update of it must not alter other tensors.
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    with deepcore.no_grad():
        x.grad += 10
    assert y.grad.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [11.0, 11.0]


def test_backward_with_gradient_for_non_scalar(rng):
    a = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    x = leaf(a)
    y = x * x + x
    y.backward(gradient=deepcore.tensor(g, dtype=deepcore.float64))
    assert_close(x.grad.numpy(), g * (2 * a + 1), 1e-12, 1e-12, "backward(gradient=g)")


def test_backward_gradient_shape_is_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(deepcore.ones(3, dtype=deepcore.float64))


def test_backward_on_a_leaf_and_on_a_0d_output():
    x = leaf([1.0, 2.0])
    x.backward(deepcore.tensor([3.0, 4.0], dtype=deepcore.float64))
    assert x.grad.tolist() == [3.0, 4.0]
    s = leaf(2.0)
    (s * s * s).backward()
    assert s.grad.item() == 12.0


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert_close(x.grad.numpy(), 2 * first, 1e-12, 0, "two backward calls with retain_graph")


@pytest.mark.parametrize("make", [
    lambda x: (x * x).sum(),
    lambda x: (x + 1).sum(),
    lambda x: x.exp().mean(),
    lambda x: (x @ x.T).sum(),
], ids=["mul", "add", "exp-mean", "matmul"])
def test_second_backward_without_retain_graph_raises(make):
    x = leaf([[1.0, 2.0]])
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_requires_grad_propagation_and_leaves():
    x = leaf([1.0])
    c = deepcore.tensor([2.0], dtype=deepcore.float64)
    y = x * c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert x.is_leaf and c.is_leaf and not c.requires_grad
    z = c * 3
    assert not z.requires_grad and z.grad_fn is None
    y.sum().backward()
    assert c.grad is None
    assert x.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.sum().backward()


# ---- grad modes ---------------------------------------------------------------------

def test_no_grad_context():
    x = leaf([1.0])
    with deepcore.no_grad():
        assert not deepcore.is_grad_enabled()
        y = x * 2
    assert deepcore.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with deepcore.no_grad():
        with deepcore.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_context(mode):
    x = leaf([1.0])
    with deepcore.set_grad_enabled(mode):
        y = x * 2
        assert deepcore.is_grad_enabled() is mode
    assert deepcore.is_grad_enabled()
    assert y.requires_grad is mode


def test_set_grad_enabled_as_a_function():
    deepcore.set_grad_enabled(False)
    assert not deepcore.is_grad_enabled()
    deepcore.set_grad_enabled(True)
    assert deepcore.is_grad_enabled()


def test_grad_mode_decorators():
    x = leaf([1.0])

    @deepcore.no_grad()
    def off(t):
        return t * 2

    @deepcore.enable_grad()
    def on(t):
        return t * 2

    @deepcore.set_grad_enabled(False)
    def set_off(t):
        return t * 2

    assert deepcore.is_grad_enabled(), "decorating with set_grad_enabled(False) must not switch grad off"
    assert not off(x).requires_grad
    assert not set_off(x).requires_grad
    assert deepcore.is_grad_enabled()
    with deepcore.no_grad():
        assert on(x).requires_grad
        set_off(x)
        assert not deepcore.is_grad_enabled(), "set_grad_enabled decorator must restore the caller's mode"
    assert deepcore.is_grad_enabled()


def test_no_grad_decorator_on_a_recursive_function():
    @deepcore.no_grad()
    def depth(n):
        assert not deepcore.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    assert deepcore.is_grad_enabled(), "grad mode must be restored after the outermost call"


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with deepcore.no_grad():
            1 / 0
    assert deepcore.is_grad_enabled()


# ---- detach and in-place updates -----------------------------------------------------

def test_detach_shares_memory_and_is_cut_from_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert d.data_ptr() == y.data_ptr()
    d += 1  # writes through to y's memory
    assert y.detach().tolist() == [4.0, 7.0]
    z = (d * x).sum()
    z.backward()
    assert x.grad.tolist() == [4.0, 7.0]  # d is a constant: no gradient flows through it into y's graph


def test_inplace_update_of_a_leaf_under_no_grad():
    # The lecture's update: w1 -= learning_rate * w1.grad; w1.grad.zero_()
    w1 = leaf([1.0, -2.0])
    ptr = w1.data_ptr()
    learning_rate = 0.1
    (w1 * w1).sum().backward()
    with deepcore.no_grad():
        w1 -= learning_rate * w1.grad
        w1.grad.zero_()
    assert w1.data_ptr() == ptr and w1.is_leaf and w1.requires_grad
    assert_close(w1.detach().numpy(), [0.8, -1.6], 1e-12, 0, "w1 after one step")
    assert w1.grad.tolist() == [0.0, 0.0]
    (w1 * w1).sum().backward()
    assert_close(w1.grad.numpy(), [1.6, -3.2], 1e-12, 0, "gradient after the update")


def test_gradient_descent_trains(rng):
    # The lecture's two-layer network shrinks its loss under plain SGD.
    x = deepcore.tensor(rng.standard_normal((16, 5)))
    y = deepcore.tensor(rng.standard_normal((16, 2)))
    w1 = deepcore.tensor(rng.standard_normal((5, 8)) * 0.5, requires_grad=True)
    w2 = deepcore.tensor(rng.standard_normal((8, 2)) * 0.5, requires_grad=True)
    losses = []
    for _ in range(50):
        loss = ((x.mm(w1).clamp(min=0).mm(w2) - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with deepcore.no_grad():
            w1 -= 1e-2 * w1.grad
            w2 -= 1e-2 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    assert losses[-1] < 0.5 * losses[0], losses[::10]


@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "itruediv", "add_", "zero_", "fill_", "setitem", "copy_"])
def test_inplace_on_a_leaf_requiring_grad_raises(op):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place|requires grad"):
        if op == "iadd":
            w += 1
        elif op == "isub":
            w -= 1
        elif op == "imul":
            w *= 2
        elif op == "itruediv":
            w /= 2
        elif op == "add_":
            w.add_(1)
        elif op == "zero_":
            w.zero_()
        elif op == "fill_":
            w.fill_(3)
        elif op == "setitem":
            w[0] = 3.0
        else:
            w.copy_(deepcore.zeros(2, dtype=deepcore.float64))
    assert w.detach().tolist() == [1.0, 2.0], "a refused in-place op must leave the tensor unchanged"


def test_inplace_on_a_non_leaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 2
    y += x  # y = 3x
    y *= x  # y = 3x^2
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]
    x.grad = None
    z = x * 1.0
    z *= z  # z = x^2
    z /= x  # z = x
    z **= 3  # z = x^3
    z.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


@pytest.mark.parametrize("modify", ["iadd_no_grad", "add_", "setitem", "zero_", "mul_output"])
def test_modifying_a_saved_tensor_then_backward_raises(modify):
    x = leaf([1.0, 2.0])
    b = deepcore.tensor([3.0, 4.0], dtype=deepcore.float64)
    if modify == "mul_output":
        e = x.exp()  # Exp saves its output
        y = e.sum()
        e.mul_(2)
    else:
        y = (x * b).sum()  # Mul saves b
        if modify == "iadd_no_grad":
            with deepcore.no_grad():
                b += 1
        elif modify == "add_":
            b.add_(1)
        elif modify == "setitem":
            b[0] = 0.0
        else:
            b.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_unsaved_tensor_may_be_modified():
    # Add saves nothing: changing an operand afterwards is fine (PyTorch agrees).
    x = leaf([1.0, 2.0])
    b = deepcore.tensor([3.0, 4.0], dtype=deepcore.float64)
    y = (x + b).sum()
    b.add_(1)
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ---- graphs ------------------------------------------------------------------------

def test_diamond_graph(rng):
    a = rng.standard_normal(4)
    x = leaf(a)
    y = x.exp()
    z = y * x + y * y  # x and y are each used twice: their gradients must add up
    z.sum().backward()
    expected = np.exp(a) * a + np.exp(a) + 2 * np.exp(2 * a)
    assert_close(x.grad.numpy(), expected, 1e-12, 1e-12, "diamond graph gradient")
    assert gradcheck(lambda t: t.exp() * t + t.exp() * t.exp(), [leaf(a)])


def test_same_tensor_used_as_both_operands():
    x = leaf([3.0])
    (x * x).backward(deepcore.ones(1, dtype=deepcore.float64))
    assert x.grad.tolist() == [6.0]
    x.grad = None
    (x + x + x).sum().backward()
    assert x.grad.tolist() == [3.0]


def test_deep_chain_does_not_recurse():
    x = leaf([1.0])
    y = x
    for _ in range(5000):  # iterative topological sort: no RecursionError
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_float32_leaf_gets_float32_grad_through_a_float64_graph():
    x = deepcore.tensor([1.0, 2.0], requires_grad=True)
    y = (x.double() * deepcore.tensor([3.0, 4.0], dtype=deepcore.float64)).sum()
    y.backward()
    assert x.grad.dtype is deepcore.float32
    assert x.grad.tolist() == [3.0, 4.0]


# ---- user-defined Functions ------------------------------------------------------------

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return 3 * x * x * grad


class ScaledSquare(Function):
    """Two inputs (one a plain number) and an attribute on ctx."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * scale

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return 2 * ctx.scale * x * grad, None


class SplitSumProd(Function):
    """Multi-output: (a + b, a * b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b, a * b

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        a, b = ctx.saved_tensors
        return g_sum + g_prod * b, g_sum + g_prod * a


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return 2 * x * x * grad  # deliberately wrong: should be 3 x^2


def test_custom_function_forward_backward_and_gradcheck(rng):
    a = rng.uniform(-2, 2, (3, 4))
    x = leaf(a)
    y = Cube.apply(x)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    y.sum().backward()
    assert_close(x.grad.numpy(), 3 * a * a, 1e-12, 1e-12, "Cube gradient")
    assert gradcheck(Cube.apply, [leaf(a)])
    assert gradcheck(lambda t: ScaledSquare.apply(t, 2.5), [leaf(a)])


def test_custom_function_trains():
    # Fit w so that Cube(w) = 8 (w -> 2) with gradient descent through the user-defined Function.
    w = deepcore.tensor([1.0], dtype=deepcore.float64, requires_grad=True)
    for _ in range(200):
        loss = ((Cube.apply(w) - 8.0) ** 2).sum()
        loss.backward()
        with deepcore.no_grad():
            w -= 1e-3 * w.grad
            w.grad.zero_()
    assert abs(w.item() - 2.0) < 1e-3, w.item()


def test_custom_function_without_grad_records_nothing():
    x = deepcore.tensor([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn is None and not y.requires_grad
    with deepcore.no_grad():
        assert Cube.apply(leaf([1.0])).grad_fn is None


def test_multi_output_function(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    x, y = leaf(a), leaf(b)
    s, p = SplitSumProd.apply(x, y)
    assert s.grad_fn is p.grad_fn
    (s * 2 + p * 3).sum().backward()
    assert_close(x.grad.numpy(), 2 + 3 * b, 1e-12, 1e-12, "multi-output grad x")
    assert_close(y.grad.numpy(), 2 + 3 * a, 1e-12, 1e-12, "multi-output grad y")
    assert gradcheck(SplitSumProd.apply, [leaf(a), leaf(b)])


def test_multi_output_function_with_one_output_unused(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    x, y = leaf(a), leaf(b)
    _, p = SplitSumProd.apply(x, y)  # the unused output gets a zero gradient
    p.sum().backward()
    assert_close(x.grad.numpy(), b, 1e-12, 1e-12, "unused output")


def test_needs_input_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, g

    Probe.apply(leaf([1.0]), deepcore.tensor([2.0], dtype=deepcore.float64)).sum().backward()
    assert seen == [(True, False)]


# ---- autograd.grad ---------------------------------------------------------------------

def test_autograd_grad_returns_without_touching_grad(rng):
    a = rng.standard_normal(3)
    x, w = leaf(a), leaf([1.0, 2.0, 3.0])
    x.grad = deepcore.ones(3, dtype=deepcore.float64)
    out = (x * x * w).sum()
    gx = deepcore.autograd.grad(out, x)
    assert_close(gx.numpy(), 2 * a * np.array([1.0, 2.0, 3.0]), 1e-12, 1e-12, "autograd.grad")
    assert x.grad.tolist() == [1.0, 1.0, 1.0], "autograd.grad must not accumulate into .grad"
    assert w.grad is None, "autograd.grad must not fill the .grad of leaves it was not asked about"


def test_autograd_grad_several_inputs_and_grad_outputs():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = x * y
    gx, gy = deepcore.autograd.grad(out, [x, y], deepcore.tensor([1.0, 10.0], dtype=deepcore.float64),
                                    retain_graph=True)
    assert gx.tolist() == [3.0, 40.0] and gy.tolist() == [1.0, 20.0]
    gx2, = deepcore.autograd.grad(out.sum(), [x])
    assert gx2.tolist() == [3.0, 4.0]


# ---- gradcheck itself ---------------------------------------------------------------------

def test_gradcheck_fails_for_a_wrong_backward(rng):
    x = leaf(rng.uniform(0.5, 2.0, (2, 3)))
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(shape \(2, 3\)\) differs"):
        gradcheck(WrongCube.apply, [x])
    assert gradcheck(WrongCube.apply, [x], raise_exception=False) is False
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_fails_for_a_wrong_second_input(rng):
    class WrongMul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * b  # second gradient wrong

    a, b = leaf(rng.uniform(1, 2, 3)), leaf(rng.uniform(3, 4, 3))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(WrongMul.apply, [a, b])


def test_gradcheck_rejects_float32_and_no_grad_inputs():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(Cube.apply, [deepcore.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(Cube.apply, [deepcore.tensor([1.0], dtype=deepcore.float64)])


def test_gradcheck_restores_inputs_and_grad(rng):
    a = rng.standard_normal((2, 2))
    x = leaf(a)
    assert gradcheck(lambda t: (t * t).sum(), [x])
    assert_close(x.detach().numpy(), a, 0, 0, "gradcheck must leave its inputs as they were")
    assert x.grad is None


# ---- leaves keep fresh gradients without a copy, and never share memory with anything else -------

def test_a_fresh_gradient_becomes_grad_without_a_copy(monkeypatch):
    w = deepcore.randn(20, 7, requires_grad=True)
    b = deepcore.zeros(7, requires_grad=True)
    x = deepcore.randn(5, 20)
    casts = []
    backend = w._backend
    original = backend.cast
    monkeypatch.setattr(backend, "cast", lambda *a, **k: casts.append(1) or original(*a, **k), raising=False)
    ((x @ w + b).relu() * 2.0).sum().backward()
    assert casts == []  # both gradients were kept as the kernels produced them
    np.testing.assert_allclose(b.grad.numpy(), 2.0 * ((x @ w + b).detach().numpy() > 0).sum(0), rtol=1e-6)


def test_leaves_given_the_same_gradient_get_separate_memory():
    a = deepcore.randn(4, requires_grad=True)
    c = deepcore.randn(4, requires_grad=True)
    (a + c).sum().backward()  # Add hands the same tensor to both leaves
    assert a.grad._data.data_ptr != c.grad._data.data_ptr
    (a * 3.0).sum().backward()  # accumulates into a.grad in place: c.grad must not move
    np.testing.assert_array_equal(a.grad.numpy(), np.full(4, 4.0, np.float32))
    np.testing.assert_array_equal(c.grad.numpy(), np.ones(4, np.float32))


def test_a_gradient_that_is_a_saved_or_user_tensor_is_copied():
    class ReturnsItsInput(deepcore.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return x  # the forward input itself

    p = deepcore.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ReturnsItsInput.apply(p).sum().backward()
    ReturnsItsInput.apply(p).sum().backward()  # accumulating must not write into p
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0, 6.0])

    leaf = deepcore.zeros(3, requires_grad=True)
    given = deepcore.tensor([1.0, 1.0, 1.0])
    leaf.backward(given)
    given += 5.0  # the caller's gradient tensor stays the caller's
    np.testing.assert_array_equal(leaf.grad.numpy(), [1.0, 1.0, 1.0])


# ---- a small composite: the lecture's two-layer network, through matmul, clamp, pow and sum ----

def test_two_layer_network(rng):
    def net(x, w1, w2, y):
        h = (x @ w1).clamp(min=0)
        return ((h @ w2 - y) ** 2).sum()

    check_op("two-layer net", net, lambda x, w1, w2, y: ((np.maximum(x @ w1, 0) @ w2 - y) ** 2).sum(),
             arrays=[away_from_zero(rng, (4, 3)), away_from_zero(rng, (3, 5)), rng.standard_normal((5, 2)),
                     rng.standard_normal((4, 2))], rng=rng, atol={"float64": 1e-9, "float32": 1e-4})

