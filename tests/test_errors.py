"""Bad input raises a clear Python exception naming the op and the shapes/dtypes; nothing crashes."""
import numpy as np
import pytest

import deepcore
from deepcore import _C

f32 = _C.DType.float32


def raises(exc, *fragments):
    """pytest.raises whose message must contain every fragment (in any order)."""
    class _Checker:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            suppressed = self.ctx.__exit__(*args)
            msg = str(self.info.value)
            missing = [f for f in fragments if f not in msg]
            assert not missing, f"{exc.__name__} message {msg!r} lacks {missing}"
            return suppressed
    return _Checker()


# ---- shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_binary_shape_mismatch(op):
    a, b = deepcore.ones(2, 3), deepcore.ones(4, 3)
    with raises(ValueError, op, "(2, 3)", "(4, 3)"):
        getattr(a, op)(b)


def test_binary_operator_shape_mismatch():
    with raises(ValueError, "add", "(3,)", "(4,)"):
        deepcore.ones(3) + deepcore.ones(4)
    with raises(ValueError, "(2, 3)", "(2,)"):
        deepcore.ones(2, 3) < deepcore.ones(2)


def test_inplace_result_does_not_fit():
    a = deepcore.ones(3)
    with raises(ValueError, "add_", "(2, 3)", "(3,)"):
        a += deepcore.ones(2, 3)
    with raises(TypeError, "mul_", "float32", "int64"):
        deepcore.ones(3, dtype=deepcore.int64).mul_(deepcore.ones(3))


@pytest.mark.parametrize("a,b,fragments", [
    ((2, 3), (2, 3), ["matmul", "(2, 3)", "(2, 3)", "not aligned"]),
    ((3,), (4,), ["matmul", "(3,)", "(4,)"]),
    ((2, 2, 3), (3, 3, 4), ["matmul", "(2, 2, 3)", "(3, 3, 4)"]),
    ((5, 3), (2, 4), ["matmul", "(5, 3)", "(2, 4)"]),
], ids=str)
def test_matmul_shape_mismatch(a, b, fragments):
    with raises(ValueError, *fragments):
        deepcore.ones(*a) @ deepcore.ones(*b)


def test_matmul_of_0d():
    with raises(ValueError, "matmul", "()"):
        deepcore.matmul(deepcore.tensor(1.0), deepcore.ones(2))


@pytest.mark.parametrize("a,b", [((2, 3), (2, 3)), ((2, 3, 4), (4, 2)), ((3,), (3, 2))], ids=str)
def test_mm_shape_mismatch(a, b):
    with raises(ValueError, "mm", str(a), str(b)):
        deepcore.ones(*a).mm(deepcore.ones(*b))


def test_cat_stack_mismatch():
    with raises(ValueError, "cat", "(2, 3)", "(3, 4)"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(3, 4)], 0)
    with raises(ValueError, "cat", "(2, 3)", "(2, 3, 1)"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(2, 3, 1)], 1)
    with raises(IndexError, "cat", "dim 2"):
        deepcore.cat([deepcore.ones(2, 3), deepcore.ones(2, 3)], 2)
    with raises(ValueError, "cat", "non-empty"):
        deepcore.cat([])
    with raises(ValueError, "stack", "(2, 3)", "(3, 2)"):
        deepcore.stack([deepcore.ones(2, 3), deepcore.ones(3, 2)])


@pytest.mark.parametrize("shape,fragments", [
    ((4, 2), ["reshape", "(4, 2)", "size 6"]),
    ((-1, 4), ["reshape", "(-1, 4)", "size 6"]),
    ((-1, -1), ["reshape", "only one dimension can be -1"]),
    ((7,), ["reshape", "(7,)", "6"]),
], ids=str)
def test_reshape_mismatch(shape, fragments):
    with raises(ValueError, *fragments):
        deepcore.ones(2, 3).reshape(shape)
    with raises(ValueError, *fragments):
        deepcore.ones(2, 3).view(*shape)


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


def test_integer_inplace_true_division_is_refused():
    i = deepcore.tensor([1, 2])
    with raises(TypeError, "div_"):
        i /= 2
    assert i.tolist() == [1, 2]


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


# ---- indexing -------------------------------------------------------------------------

@pytest.mark.parametrize("index,fragments", [
    (3, ["index 3", "dimension 0", "size 3"]),
    (-4, ["index -4", "size 3"]),
    ((0, 4), ["index 4", "dimension 1", "size 4"]),
    ((0, 0, 0), ["too many indices", "dimension 2"]),
    ((Ellipsis, Ellipsis), ["single ellipsis"]),
    ([0, 1], ["list", "not supported"]),
    (1.5, ["float", "not supported"]),
], ids=str)
def test_index_errors(index, fragments):
    x = deepcore.zeros(3, 4)
    with raises(IndexError, *fragments):
        x[index]


def test_setitem_out_of_range_and_dim_errors():
    x = deepcore.zeros(3, 4)
    with raises(IndexError, "index 5", "size 3"):
        x[5] = 1.0
    with raises(IndexError, "size", "dim 2"):
        x.size(2)
    with raises(ValueError, "copy_", "(2,)", "(4,)"):
        x[0] = deepcore.ones(2)


# ---- the raw kernels: wrong arguments raise, never crash ------------------------------------

def _arr(*shape, dtype=f32):
    return _C.full(list(shape), 1.0, dtype)


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


def test_c_binary_bad_arguments():
    with raises(ValueError, "add", "(3, 4)", "(5, 4)"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(5, 4))
    with raises(TypeError, "add", "float32", "float64"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(3, 4, dtype=_C.DType.float64))
    with raises(TypeError, "mul", "int64"):
        _C.binary(_C.BinaryOp.mul, _arr(3), _arr(3, dtype=_C.DType.int64))
    with raises(ValueError, "add", "output", "(2,)", "(3, 4)"):
        _C.binary(_C.BinaryOp.add, _arr(3, 4), _arr(3, 4), _arr(2))
    with pytest.raises(TypeError):
        _C.binary(_C.BinaryOp.add, _arr(3), 1.0)  # pybind11's own argument check
    with raises(ValueError, "copy_", "(5, 4)", "(3, 4)"):
        _C.copy_(_arr(3, 4), _arr(5, 4))


def test_c_matmul_bad_shapes():
    with raises(ValueError, "matmul", "(3, 4)", "not aligned"):
        _C.matmul(_arr(3, 4), _arr(3, 4))
    with raises(ValueError, "matmul", "at least 2 dimensions"):
        _C.matmul(_arr(4), _arr(4, 3))
    with raises(ValueError, "matmul", "batch"):
        _C.matmul(_arr(2, 3, 4), _arr(3, 4, 5))
    with raises(ValueError, "matmul", "int64"):
        _C.matmul(_arr(2, 2, dtype=_C.DType.int64), _arr(2, 2, dtype=_C.DType.int64))


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


def test_c_empty_bad_sizes():
    with raises(ValueError, "negative dimension -1", "(-1, 3)"):
        _C.empty([-1, 3], f32)
    with raises(ValueError, "negative dimension"):
        _C.full([2, -5], 0.0, f32)
    with raises(ValueError, "negative dimension"):
        deepcore.zeros(2, -1)


@pytest.mark.parametrize("shape", [[2 ** 40, 2 ** 30], [2 ** 31, 2 ** 31, 4], [2 ** 61]], ids=str)
def test_c_huge_allocation(shape):
    with pytest.raises((ValueError, MemoryError)):
        _C.empty(shape, f32)


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
