"""In-place writes on memory that overlaps (csrc/common/overlap.h, ops/_inplace.py): refused with PyTorch's
RuntimeError where the result would depend on the order of the writes, the out-of-place answer elsewhere."""
import numpy as np
import pytest

import deepcore
from deepcore import nn
from helpers import assert_close, raises, torch as _torch

PARTIAL = "some elements of the input tensor and the written-to tensor refer to a single memory location"
INTERNAL = "more than one element of the written-to tensor refers to a single memory location"


def _iadd(a, b):
    a += b
    return a


# Each case: (name, setup(lib) -> the tensors, write(lib, *tensors)). Built for deepcore and torch alike.
def _vec(lib):
    return (lib.arange(6.0),)


def _mat(lib):
    return (lib.arange(9.0).reshape(3, 3) + 1,)


def _row(lib):
    return (lib.zeros(4),)


# The same with a graph recording (non-leaves that require grad): the in-place op is computed out
# of place and copied back, and must refuse just the same.
def _vec_graph(lib):
    return (lib.ones(6, requires_grad=True) * lib.arange(6.0),)


def _mat_graph(lib):
    return (lib.ones(3, 3, requires_grad=True) * (lib.arange(9.0).reshape(3, 3) + 1),)


def _row_graph(lib):
    return (lib.ones(4, requires_grad=True) * 0,)


def _bool_mat(lib):
    return (lib.tensor([[True, False], [False, False]]),)


PARTIAL_CASES = [
    ("add_ shifted slice", _vec, lambda lib, t: t[1:].add_(t[:-1])),
    ("sub_ shifted slice", _vec, lambda lib, t: t[1:].sub_(t[:-1])),
    ("mul_ shifted slice", _vec, lambda lib, t: t[1:].mul_(t[:-1])),
    ("div_ shifted slice", _vec, lambda lib, t: t[:-1].div_(t[1:])),
    ("pow_ shifted slice", _vec, lambda lib, t: t[1:].pow_(t[:-1])),
    ("+= shifted slice", _vec, lambda lib, t: _iadd(t[1:], t[:-1])),
    ("copy_ shifted slice", _vec, lambda lib, t: t[1:].copy_(t[:-1])),
    ("copy_ transpose", _mat, lambda lib, x: x.copy_(x.t())),
    ("add_ transpose", _mat, lambda lib, x: x.add_(x.t())),
    ("mul_ transpose", _mat, lambda lib, x: x.mul_(x.t())),
    ("add_ own row", _mat, lambda lib, x: x.add_(x[0])),
    ("lerp_ shifted slice", _vec, lambda lib, t: t[1:].lerp_(t[:-1], 0.5)),
    ("addcmul_ shifted slice", _vec, lambda lib, t: t[1:].addcmul_(t[:-1], t[:-1])),
    ("index_add_ shifted rows", _mat, lambda lib, x: x[1:].index_add_(0, lib.tensor([0, 1]), x[:2])),
    ("add_ alpha shifted slice", _vec, lambda lib, t: t[1:].add_(t[:-1], alpha=2)),
    ("sub_ alpha transpose", _mat, lambda lib, x: x.sub_(x.t(), alpha=0.5)),
    ("recorded add_ shifted slice", _vec_graph, lambda lib, t: t[1:].add_(t[:-1])),
    ("recorded mul_ shifted slice", _vec_graph, lambda lib, t: t[1:].mul_(t[:-1])),
    ("recorded div_ transpose", _mat_graph, lambda lib, x: x.div_(x.t())),
    ("recorded += shifted slice", _vec_graph, lambda lib, t: _iadd(t[1:], t[:-1])),
    ("masked_fill_ own transpose as mask", _bool_mat, lambda lib, m: m.masked_fill_(m.t(), False)),
]

INTERNAL_CASES = [
    ("add_ scalar", _row, lambda lib, b: b.expand(3, 4).add_(1)),
    ("mul_ scalar", _row, lambda lib, b: b.expand(3, 4).mul_(2)),
    ("+= tensor", _row, lambda lib, b: _iadd(b.expand(3, 4), lib.ones(3, 4))),
    ("copy_ full-size source", _row, lambda lib, b: b.expand(3, 4).copy_(lib.ones(3, 4))),
    ("exp_", _row, lambda lib, b: b.expand(3, 4).exp_()),
    ("lerp_", _row, lambda lib, b: b.expand(3, 4).lerp_(lib.ones(3, 4), 0.5)),
    ("uniform_", _row, lambda lib, b: b.expand(3, 4).uniform_()),
    ("recorded add_ scalar", _row_graph, lambda lib, b: b.expand(3, 4).add_(1)),
    ("recorded mul_ tensor", _row_graph, lambda lib, b: b.expand(3, 4).mul_(lib.ones(3, 4))),
    ("clamp_", _row, lambda lib, b: b.expand(3, 4).clamp_(0, 1)),
    ("recorded clamp_", _row_graph, lambda lib, b: b.expand(3, 4).clamp_(min=0)),
    ("relu_", _row, lambda lib, b: b.expand(3, 4).relu_()),
    ("F.relu inplace", _row, lambda lib, b: lib.nn.functional.relu(b.expand(3, 4), inplace=True)),
    ("F.relu inplace recorded", _row_graph, lambda lib, b: lib.nn.functional.relu(b.expand(3, 4), inplace=True)),
    ("F.elu inplace", _row, lambda lib, b: lib.nn.functional.elu(b.expand(3, 4), inplace=True)),
    ("F.hardtanh inplace", _row, lambda lib, b: lib.nn.functional.hardtanh(b.expand(3, 4), inplace=True)),
]


def _run(lib, setup, write):
    tensors = setup(lib)
    return write(lib, *tensors)


@pytest.mark.parametrize("name,setup,write", PARTIAL_CASES, ids=[c[0] for c in PARTIAL_CASES])
def test_partial_overlap_is_refused_as_in_torch(name, setup, write):
    with raises(RuntimeError, "unsupported operation", PARTIAL):
        _run(deepcore, setup, write)
    if _torch is not None:
        with raises(RuntimeError, PARTIAL):
            _run(_torch, setup, write)


@pytest.mark.parametrize("name,setup,write", INTERNAL_CASES, ids=[c[0] for c in INTERNAL_CASES])
def test_write_into_an_expanded_view_is_refused_as_in_torch(name, setup, write):
    with raises(RuntimeError, "unsupported operation", INTERNAL):
        _run(deepcore, setup, write)
    if _torch is not None:
        with raises(RuntimeError, INTERNAL):
            _run(_torch, setup, write)


def test_the_refusal_names_the_op_and_leaves_memory_untouched():
    t = deepcore.arange(6.0)
    with raises(RuntimeError, "sub_: unsupported operation"):
        t[1:].sub_(t[:-1])
    with raises(RuntimeError, "copy_: unsupported operation"):
        t[1:].copy_(t[:-1])
    with raises(RuntimeError, "lerp_: unsupported operation"):
        t[1:].lerp_(t[:-1], 0.5)
    with raises(RuntimeError, "add_: unsupported operation", INTERNAL):
        deepcore.zeros(4).expand(2, 4).add_(1)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_ops_computed_out_of_place_refuse_in_their_own_name():
    """The recorded add_ family, clamp_, masked_fill_ and the inplace=True activations compute out of
    place and copy back; the refusal comes before that, names the op (not copy_) and writes nothing.
    (PyTorch still accepts masked_fill_ on an expanded view, with a deprecation warning: deepcore's
    copy back could not give its answer, so it refuses, as PyTorch plans to.)"""
    g, = _vec_graph(deepcore)
    with raises(RuntimeError, "mul_: unsupported operation", PARTIAL):
        g[1:].mul_(g[:-1])
    with raises(RuntimeError, "add_: unsupported operation", PARTIAL):
        g[1:].add_(g[:-1], alpha=3)
    assert g.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and g.grad_fn.name == "Mul"
    b = deepcore.zeros(4)
    cases = [("clamp_", lambda v: v.clamp_(0, 1)),
             ("masked_fill_", lambda v: v.masked_fill_(deepcore.ones(3, 4, dtype=deepcore.bool), 1.0)),
             ("relu_", lambda v: nn.functional.relu(v, inplace=True)),
             ("leaky_relu_", lambda v: nn.functional.leaky_relu(v, 0.1, inplace=True)),
             ("elu_", lambda v: nn.functional.elu(v, inplace=True)),
             ("relu_", lambda v: nn.ReLU(inplace=True)(v))]
    for op, write in cases:
        with raises(RuntimeError, f"{op}: unsupported operation", INTERNAL):
            write(b.expand(3, 4))
        with raises(RuntimeError, f"{op}: unsupported operation", INTERNAL):
            write(_row_graph(deepcore)[0].expand(3, 4))
    assert b.tolist() == [0.0] * 4
    m, = _bool_mat(deepcore)
    with raises(RuntimeError, "masked_fill_: unsupported operation", PARTIAL):
        m.masked_fill_(m.t(), False)
    assert m.tolist() == [[True, False], [False, False]]


# Allowed: the same elements read and written, disjoint views, and one value per shared location.
def _then(write, x):
    write(x)
    return x


ALLOWED = [
    ("add_ itself", lambda x: x.add_(x), lambda a: a + a),
    ("mul_ itself", lambda x: x.mul_(x), lambda a: a * a),
    ("copy_ itself", lambda x: x.copy_(x), lambda a: a),
    ("add_ its own row, same elements", lambda x: _then(lambda y: y[1].add_(y[1]), x), lambda a: _set(a, 1, 2 * a[1])),
    ("add_ disjoint strided halves", lambda x: _then(lambda y: y.reshape(-1)[::2].add_(y.reshape(-1)[1::2]), x),
     lambda a: _flat_set(a, slice(0, None, 2), a.reshape(-1)[::2] + a.reshape(-1)[1::2])),
    ("add_ disjoint rows", lambda x: _then(lambda y: y[0].add_(y[2]), x), lambda a: _set(a, 0, a[0] + a[2])),
]


def _set(a, i, v):
    a = a.copy()
    a[i] = v
    return a


def _flat_set(a, s, v):
    a = a.copy()
    a.reshape(-1)[s] = v
    return a


@pytest.mark.parametrize("name,write,ref", ALLOWED, ids=[c[0] for c in ALLOWED])
def test_overlaps_with_a_defined_answer_are_computed(name, write, ref):
    a = np.arange(1.0, 13.0).reshape(3, 4)
    x = deepcore.tensor(a)
    assert write(x) is x
    assert_close(x.numpy(), ref(a), 0, 0, name)
    if _torch is not None:
        t = _torch.tensor(a)
        write(t)
        assert_close(x.numpy(), t.numpy(), 0, 0, f"{name} vs torch")


# Strided views whose memory interleaves (they may or may not meet): deepcore reads a copy of the
# input, so the answer is the out-of-place one (PyTorch does not check these and gives whatever its
# loop order produces).
INTERLEAVED = [
    ("add_ column-shifted view", lambda x: x[:, 1:].add_(x[:, :-1]), lambda a: _cols(a, a[:, 1:] + a[:, :-1])),
    ("copy_ column-shifted view", lambda x: x[:, 1:].copy_(x[:, :-1]), lambda a: _cols(a, a[:, :-1])),
    ("mul_ column-shifted view", lambda x: x[:, 1:].mul_(x[:, :-1]), lambda a: _cols(a, a[:, 1:] * a[:, :-1])),
    ("add_ own row expanded", lambda x: x.add_(x[0].expand(3, 4)), lambda a: a + a[0]),
    ("sub_ its own transpose, strided", lambda x: x[:, :3].sub_(x[:, :3].t()),
     lambda a: _first3(a, a[:, :3] - a[:, :3].T)),
]


def _cols(a, v):
    a = a.copy()
    a[:, 1:] = v
    return a


def _first3(a, v):
    a = a.copy()
    a[:, :3] = v
    return a


@pytest.mark.parametrize("name,write,ref", INTERLEAVED, ids=[c[0] for c in INTERLEAVED])
def test_interleaved_views_give_the_out_of_place_answer(name, write, ref):
    a = np.arange(1.0, 13.0).reshape(3, 4)
    x = deepcore.tensor(a)
    write(x)
    assert_close(x.numpy(), ref(a), 0, 0, name)


def test_fill_and_zero_of_an_expanded_view_write_one_value():
    b = deepcore.zeros(4)
    b.expand(3, 4).fill_(2.5)
    assert b.tolist() == [2.5] * 4
    b.expand(3, 4).zero_()
    assert b.tolist() == [0.0] * 4


def test_the_overlap_classification():
    x = deepcore.arange(12.0).reshape(3, 4)
    nd = x._data
    assert nd.overlap(x._data) == "full"
    assert nd.overlap(deepcore.zeros(3, 4)._data) == "none"
    assert x[1:]._data.overlap(x[:-1]._data) == "partial"
    assert x[1:]._data.overlap(x[:1]._data) == "none"      # adjacent rows: extents only touch
    assert x[:, 1:]._data.overlap(x[:, :-1]._data) == "interleaved"
    assert x._data.overlap(x[0]._data) == "partial"        # a row read broadcast over the whole
    assert x[:0]._data.overlap(x._data) == "none"          # empty: nothing is written
    assert not nd.has_internal_overlap() and not x.t()._data.has_internal_overlap()
    assert x[0].expand(3, 4)._data.has_internal_overlap()
    assert not x[0:1].expand(1, 4)._data.has_internal_overlap()  # size-1 dims never repeat


def test_the_raw_kernels_refuse_too():
    from deepcore import _C
    x = deepcore.arange(6.0)
    with raises(RuntimeError, "add_: unsupported operation", PARTIAL):
        _C.binary(_C.BinaryOp.add, x[1:]._data, x[:-1]._data, x[1:]._data)
    with raises(RuntimeError, "exp (out=): unsupported operation", PARTIAL):
        _C.unary(_C.UnaryOp.exp, x[:-1]._data, x[1:]._data)
    with raises(RuntimeError, "neg_: unsupported operation", INTERNAL):
        e = x[:1].expand(3)._data
        _C.unary(_C.UnaryOp.neg, e, e)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_clamp_and_masked_fill_in_place_on_a_non_leaf_are_recorded():
    """Both now run through ops/_inplace.py as the add_ family does: a non-leaf that requires grad
    is written and differentiated (they refused it as if it were a leaf before), a leaf still is not."""
    w = deepcore.tensor([-2.0, 0.5, 3.0], dtype=deepcore.float64, requires_grad=True)
    x, y = w * 2, w * 1
    assert x.clamp_(-1, 2) is x and y.masked_fill_(deepcore.tensor([True, False, False]), 7.0) is y
    (x * deepcore.tensor([1.0, 2.0, 3.0], dtype=deepcore.float64) + y * 5).sum().backward()
    assert x.tolist() == [-1.0, 1.0, 2.0] and y.tolist() == [7.0, 0.5, 3.0]
    # d/dw: clamp passes 2 * weight where -1 < 2w < 2 (only w = 0.5), masked_fill 5 where not filled
    assert w.grad.tolist() == [0.0, 2 * 2 + 5, 5.0]
    if _torch is not None:
        tw = _torch.tensor([-2.0, 0.5, 3.0], dtype=_torch.float64, requires_grad=True)
        tx, ty = tw * 2, tw * 1
        tx.clamp_(-1, 2)
        ty.masked_fill_(_torch.tensor([True, False, False]), 7.0)
        (tx * _torch.tensor([1.0, 2.0, 3.0], dtype=_torch.float64) + ty * 5).sum().backward()
        assert tw.grad.tolist() == w.grad.tolist()
    with raises(RuntimeError, "clamp_", "leaf Variable"):
        deepcore.ones(2, requires_grad=True).clamp_(0, 1)
    with raises(RuntimeError, "masked_fill_", "leaf Variable"):
        deepcore.ones(2, requires_grad=True).masked_fill_(deepcore.tensor([True, False]), 0.0)
    with raises(RuntimeError, "masked_fill", "does not broadcast"):
        deepcore.zeros(3).masked_fill_(deepcore.ones(2, 3, dtype=deepcore.bool), 1.0)
