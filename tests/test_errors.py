"""Cross-cutting bad input (dtypes, autograd misuse, NaN/inf, raw views and kernels) raises a clear exception naming the op; family errors live in test_<stem>.py."""
import numpy as np
import pytest

import deepcore
from deepcore import _C
from helpers import raises, raw_ones as _arr


# ---- shapes ------------------------------------------------------------------------


def test_other_shape_op_errors():
    x = deepcore.ones(2, 3)
    with raises(ValueError, "permute", "(2, 3)"):
        x.permute(0, 0)
    with raises(IndexError, "transpose", "dim 2"):
        x.transpose(0, 2)
    with raises(ValueError, "expand", "(2, 3)", "(4, 3)"):
        x.expand(4, 3)
    with raises(IndexError, "sum", "dim 3"):
        x.sum(3)
    with raises(IndexError, "softmax", "dim -3"):
        x.softmax(-3)
    with raises(ValueError, "sum", "twice"):
        x.sum((0, -2))


# ---- dtypes --------------------------------------------------------------------------

def test_wrong_dtypes():
    i = deepcore.ones(2, 2, dtype=deepcore.int64)
    with raises(TypeError, "matmul", "int64"):
        i @ i
    with raises(TypeError, "mm", "int64"):
        i.mm(i)
    with raises(TypeError, "matmul", "float32", "float64"):
        deepcore.ones(2, 2) @ deepcore.ones(2, 2, dtype=deepcore.float64)
    for op in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu"):
        with raises(TypeError, op, "int64"):
            getattr(i, op)()
    with raises(TypeError, "softmax", "int64"):
        i.softmax(0)
    with raises(TypeError, "mean", "int64"):
        i.mean()
    with raises(RuntimeError, "floating point", "int64"):
        deepcore.ones(2, dtype=deepcore.int64, requires_grad=True)
    with raises(RuntimeError, "floating point", "int64"):
        i.requires_grad = True
    with raises(RuntimeError, "floating point", "bool"):
        deepcore.tensor([True]).requires_grad_()
    with raises(TypeError, "unsupported dtype"):
        deepcore.zeros(2, dtype="complex64")
    with raises(TypeError, "could not infer"):
        deepcore.tensor([object()])


# ---- autograd misuse ---------------------------------------------------------------------

def test_backward_on_non_scalar_without_gradient():
    x = deepcore.ones(2, 3, requires_grad=True)
    with raises(RuntimeError, "scalar", "(2, 3)"):
        (x * 2).backward()


def test_backward_twice_through_a_freed_graph():
    x = deepcore.ones(3, requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    with raises(RuntimeError, "second time", "retain_graph=True"):
        loss.backward()


def test_backward_of_a_tensor_without_grad():
    with raises(RuntimeError, "does not require grad"):
        deepcore.ones(2).sum().backward()


def test_cannot_clear_requires_grad_of_a_non_leaf():
    y = deepcore.ones(2, requires_grad=True) * 2
    with raises(RuntimeError, "leaf", "detach"):
        y.requires_grad = False


# ---- NaN / inf ------------------------------------------------------------------------

@pytest.mark.parametrize("op,fn,x,where", [
    ("Log", lambda t: t.log(), [-1.0, 1.0], "output"),
    ("Sqrt", lambda t: t.sqrt(), [-4.0], "output"),
    ("Exp", lambda t: t.exp(), [float("nan")], "input"),
    ("Div", lambda t: t / 0.0, [1.0], "output"),
    ("Mul", lambda t: t * deepcore.tensor([float("inf")]), [1.0], "input"),
], ids=["log", "sqrt", "exp-nan", "div0", "mul-inf"])
def test_detect_anomaly_names_the_op(op, fn, x, where):
    t = deepcore.tensor(x, requires_grad=True)
    with deepcore.autograd.detect_anomaly():
        with raises(FloatingPointError, op, where, "NaN or inf"):
            fn(t)
    assert not deepcore.autograd.is_anomaly_enabled()
    fn(t)  # outside detect_anomaly the same op just produces NaN/inf


def test_detect_anomaly_checks_backward():
    x = deepcore.tensor([0.0], requires_grad=True)
    with deepcore.autograd.detect_anomaly():
        y = x.sqrt()  # forward is finite (0), its gradient 1/(2*sqrt(0)) is inf
        with raises(FloatingPointError, "SqrtBackward", "gradient"):
            y.sum().backward()


def test_backward_of_a_nan_loss_raises():
    w = deepcore.tensor([-1.0, 2.0], requires_grad=True)
    loss = w.log().sum()
    with raises(FloatingPointError, "backward", "nan", "detect_anomaly"):
        loss.backward()
    assert w.grad is None
    inf_loss = (w.abs() * float("inf")).sum()
    with raises(FloatingPointError, "backward", "inf"):
        inf_loss.backward()


# ---- the raw kernels: wrong arguments raise, never crash ------------------------------------


def test_c_view_outside_its_buffer():
    a = _arr(3, 4)
    with raises(ValueError, "view", "(1000000,)", "12"):
        _C.view(a, [10 ** 6], [1], 0)
    with raises(ValueError, "view"):
        _C.view(a, [3, 4], [4, 1], 1)  # one element past the end
    with raises(ValueError, "negative stride"):
        _C.view(a, [3], [-1], 2)
    with raises(ValueError, "negative offset"):
        _C.view(a, [1], [1], -1)
    with raises(ValueError, "differ in length"):
        _C.view(a, [3], [1, 1], 0)
    assert _C.view(a, [2, 2], [4, 1], 6).shape == (2, 2)  # the last element exactly: allowed


def test_c_reduce_and_softmax_bad_axes():
    with raises(ValueError, "sum", "axis 5", "2 dimension"):
        _C.reduce(_C.ReduceOp.sum, _arr(3, 4), [5], False)
    with raises(ValueError, "argmax", "axis 3"):
        _C.arg_reduce(True, _arr(3, 4), 3, False)
    with raises(ValueError, "softmax", "dim 2"):
        _C.softmax(_arr(3, 4), 2)
    with raises(ValueError, "log_softmax"):
        _C.log_softmax(_arr(3, 4), -3)
    with raises(ValueError, "softmax_backward", "(3, 4)", "(5, 4)"):
        _C.softmax_backward(_arr(3, 4), _arr(5, 4), 0)


def test_c_other_kernels_check_their_arguments():
    with raises(TypeError, "exp", "int64"):
        _C.unary(_C.UnaryOp.exp, _arr(3, dtype=_C.DType.int64))
    with raises(TypeError, "where", "bool"):
        _C.where(_arr(3), _arr(3), _arr(3))
    with raises(ValueError, "tanh_backward"):
        _C.tanh_backward(_arr(3), _arr(4))
    with raises(ValueError, "randint"):
        _C.randint(5, 2, [3])
    with raises(ValueError, "randperm"):
        _C.randperm(-3)
    with raises(TypeError, "from_numpy", "int32"):
        _C.from_numpy(np.zeros(2, dtype=np.int32))
    with raises(TypeError, "byte order"):
        _C.from_numpy(np.zeros(2, dtype=">f8"))
