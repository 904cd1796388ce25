"""Strategies and checks shared by the property suite.

* ``shapes``: empty dims, 0-d, size 1 and primes, capped in element count;
* ``operands``: an input in one of four memory layouts (contiguous, a permuted view, a strided
  slice of a larger buffer with garbage between the elements, an expand of a smaller tensor),
  built the same way in NumPy, deepcore and torch from one base array, so a test gets the value
  (float64, for the reference) and the view (for the library);
* values drawn from a seeded NumPy generator (fast: one draw per array, not per element), with
  NaN, +-inf, +-1e30 and signed zeros spliced in where the strategy asks for specials;
* ``expect_value`` / ``expect_error``: the comparison with a float64 reference (and torch) and
  the check that an invalid call raises a Python exception naming the op.
"""
import os

import numpy as np
from hypothesis import strategies as st

import deepcore
from helpers import assert_close

try:  # the torch comparisons run only where torch is importable; the NumPy references always
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

_SCALE = float(os.environ.get("DEEPCORE_PROPERTY_SCALE", "1"))


def examples(n):
    """A test's example count: n, times DEEPCORE_PROPERTY_SCALE (default 1) for longer local runs."""
    return max(1, int(n * _SCALE))


SIZES = (0, 1, 2, 3, 5, 7, 11, 13)          # empty, one, primes
NONEMPTY_SIZES = SIZES[1:]
SPECIALS = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0])
GARBAGE = -7777.0                            # fills a strided buffer between the elements a view shows
FLOAT_DTYPES = ("float32", "float64")
ALL_DTYPES = ("float32", "float64", "int64", "bool")
# Exceptions an invalid call may raise: PyTorch's (RuntimeError, IndexError, ValueError, TypeError)
# and deepcore's refusals of what it does not implement.
REFUSALS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)


_SIZE_DRAW = {}


def _sizes_up_to(pool, limit):
    """st.sampled_from of the sizes in pool that are <= limit (cached: a new strategy object per draw is slow)."""
    key = (pool, limit)
    if key not in _SIZE_DRAW:
        _SIZE_DRAW[key] = st.sampled_from([s for s in pool if s <= limit])
    return _SIZE_DRAW[key]


@st.composite
def shapes(draw, min_dims=0, max_dims=4, allow_empty=True, max_numel=1500, sizes=None):
    """A shape of min_dims..max_dims sizes from SIZES whose element count stays <= max_numel."""
    pool = tuple(sizes) if sizes is not None else (SIZES if allow_empty else NONEMPTY_SIZES)
    ndim = draw(st.integers(min_dims, max_dims))
    shape, numel = [], 1
    for _ in range(ndim):
        s = draw(_sizes_up_to(pool, max(max_numel // numel, min(pool))))
        shape.append(s)
        numel *= max(s, 1)
    return tuple(shape)


def broadcast_partner(draw, shape):
    """A shape that broadcasts with `shape`: a suffix of it, with some sizes replaced by 1, maybe one
    leading dim more (one draw: the details come from a generator it seeds)."""
    rng = np.random.default_rng(draw(_CHOICE))
    keep = int(rng.integers(0, len(shape) + 1))
    tail = [1 if rng.random() < 0.25 else s for s in shape[len(shape) - keep:]]
    # a new leading dim (the partner has more dims) only in front of the whole shape
    lead = [int(rng.choice((1, 2, 3)))] if keep == len(shape) < 4 and rng.random() < 0.25 else []
    return tuple(lead + tail)


# ---- values -----------------------------------------------------------------------------------

_SEEDS = st.integers(0, 2 ** 32 - 1)
_CHOICE = st.integers(0, 2 ** 16 - 1)   # one draw for a layout's or a partner's details
# one draw picks the values' seed and whether specials are spliced in: modes 0-2 splice NaN/inf/1e30
# into 5%, 30% or all of the elements (3 in 12 float arrays), the rest are plain uniform values
_VALUE_MODES = st.integers(0, 11)
_SPECIAL_FRACTIONS = (0.05, 0.3, 1.0)


def _values(rng, mode, shape, dtype, low, high, specials):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "int64":
        return rng.integers(int(low) - 3, int(high) + 4, size=shape, dtype=np.int64)
    a = rng.uniform(low, high, size=shape)
    if specials and a.size and mode < len(_SPECIAL_FRACTIONS):
        mask = rng.random(shape) < _SPECIAL_FRACTIONS[mode]
        a[mask] = rng.choice(SPECIALS, size=int(mask.sum()))
    return a.astype(np.dtype(dtype))


def _draw_values(draw, shape, dtype, low, high, specials):
    rng = np.random.default_rng(draw(_SEEDS))
    return _values(rng, draw(_VALUE_MODES), shape, dtype, low, high, specials)


class Operand:
    """One input: a base array and the view steps that turn it into the logical value.

    steps: ("slice", slices) | ("permute", perm) | ("expand", shape), applied in order, spelled the
    same for NumPy (the reference), deepcore and torch.
    """

    def __init__(self, base, steps, dtype, layout):
        self.base, self.steps, self.dtype, self.layout = base, steps, dtype, layout
        self.value = self._apply(base, "numpy")
        if dtype.startswith("float"):
            self.value = self.value.astype(np.float64)
        self.shape = tuple(self.value.shape)
        self._dc = self._th = None

    def _apply(self, t, library):
        for kind, arg in self.steps:
            if kind == "slice":
                t = t[arg]
            elif kind == "permute":
                t = t.transpose(arg) if library == "numpy" else t.permute(*arg)
            else:
                t = np.broadcast_to(t, arg) if library == "numpy" else t.expand(*arg)
        return t

    def deepcore(self, requires_grad=False):
        """(leaf, view): the leaf holds the base (its .grad is the gradient of the view's uses)."""
        leaf = deepcore.tensor(self.base, dtype=getattr(deepcore, self.dtype), requires_grad=requires_grad)
        return leaf, self._apply(leaf, "deepcore")

    def torch(self, requires_grad=False):
        leaf = torch.tensor(self.base, dtype=getattr(torch, self.dtype), requires_grad=requires_grad)
        return leaf, self._apply(leaf, "torch")

    def dc(self):
        """The deepcore view (made once: tests that only read it share it)."""
        if self._dc is None:
            self._dc = self.deepcore()[1]
        return self._dc

    def th(self):
        if self._th is None:
            self._th = self.torch()[1]
        return self._th

    def __repr__(self):
        return f"Operand({self.dtype}, shape={self.shape}, layout={self.layout}, steps={self.steps})"


LAYOUTS = ("contiguous", "transposed", "strided", "expanded")
_LAYOUT_DRAW = {layouts: st.sampled_from(layouts) for layouts in
                (LAYOUTS, LAYOUTS[:1], LAYOUTS[:2], LAYOUTS[:3], ("contiguous", "transposed", "strided"))}


@st.composite
def operands(draw, shape, dtype="float32", low=-3.0, high=3.0, specials=True, layouts=LAYOUTS):
    """An Operand of logical `shape` in a drawn layout (each falls back to contiguous where it cannot apply).

    Few draws per operand (layout, one number for its details, the values' seed and mode): drawing is
    most of hypothesis' cost per example."""
    layout = draw(_LAYOUT_DRAW[layouts] if layouts in _LAYOUT_DRAW else st.sampled_from(layouts))
    ndim = len(shape)
    if layout == "contiguous" or ndim == 0 or (layout == "transposed" and ndim < 2) or (
            layout == "expanded" and all(s == 1 for s in shape)):
        return Operand(_draw_values(draw, shape, dtype, low, high, specials), [], dtype, "contiguous")
    detail = np.random.default_rng(draw(_CHOICE))  # the permutation, steps or broadcast dims
    if layout == "transposed":
        perm = tuple(int(i) for i in detail.permutation(ndim))
        if perm == tuple(range(ndim)):
            perm = perm[1:] + perm[:1]
        inverse = tuple(int(i) for i in np.argsort(perm))
        value = _draw_values(draw, shape, dtype, low, high, specials)
        return Operand(np.ascontiguousarray(value.transpose(perm)), [("permute", inverse)], dtype, layout)
    if layout == "strided":
        # steps 1-3 on the outer dims and 2, 3 or 7 on the last (large strides once multiplied out),
        # a start of 0 or 1 per dim; the gaps hold GARBAGE, which no result may show
        steps = [int(s) for s in detail.choice((1, 2, 3), ndim - 1)] + [int(detail.choice((2, 3, 7)))]
        starts = [int(o) for o in detail.integers(0, 2, ndim)]
        full = tuple(o + max(n - 1, 0) * s + 1 for n, s, o in zip(shape, steps, starts))
        base = np.full(full, GARBAGE if dtype != "bool" else True, dtype=np.dtype(dtype))
        slices = tuple(slice(o, o + max(n - 1, 0) * s + 1 if n else o, s) for n, s, o in zip(shape, steps, starts))
        base[slices] = _draw_values(draw, shape, dtype, low, high, specials)
        return Operand(base, [("slice", slices)], dtype, layout)
    # expanded: a smaller tensor (size 1 in some dims of size != 1) broadcast to the shape
    wide = [i for i, s in enumerate(shape) if s != 1]
    pick = [i for i in wide if detail.random() < 0.5] or wide[:1]
    small = tuple(1 if i in pick else s for i, s in enumerate(shape))
    return Operand(_draw_values(draw, small, dtype, low, high, specials), [("expand", shape)], dtype, layout)


# ---- checks -----------------------------------------------------------------------------------

TOL = {"float32": (1e-5, 2e-5), "float64": (1e-12, 1e-10)}


def to_numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def expect_value(actual, expected, dtype, what, atol=None, rtol=None):
    """actual (a deepcore or torch tensor) equals expected (float64 NumPy, cast to `dtype` first so an
    overflow to inf in float32 is expected), within the dtype's tolerance; shape and dtype exact."""
    a = to_numpy(actual)
    e = np.asarray(expected)
    if dtype is not None:
        assert str(a.dtype) == dtype, f"{what}: dtype {a.dtype}, expected {dtype}"
        with np.errstate(over="ignore", invalid="ignore"):
            e = e.astype(np.dtype(dtype))
    d_atol, d_rtol = TOL.get(str(a.dtype), (0, 0))
    assert_close(a, e, d_atol if atol is None else atol, d_rtol if rtol is None else rtol, what)


def expect_same(ours, theirs, what, atol=None, rtol=None):
    """deepcore's result equals torch's: dtype name, shape, values (NaN and inf in the same places)."""
    a, t = to_numpy(ours), to_numpy(theirs)
    assert a.dtype == t.dtype, f"{what}: deepcore dtype {a.dtype}, torch {t.dtype}"
    d_atol, d_rtol = TOL.get(str(a.dtype), (0, 0))
    assert_close(a, t, d_atol if atol is None else atol, d_rtol if rtol is None else rtol, f"{what} vs torch")


def _names_one(msg, names):
    low = msg.lower()
    return any(n.lower() in low for n in names)


def expect_error(call, names, what, torch_call=None, also=()):
    """call() raises one of REFUSALS whose message names the op (any of `names`) and contains every
    fragment of `also`; torch_call(), when given and torch is importable, must raise too (deepcore
    refusing what PyTorch computes is a finding as well)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    try:
        call()
    except REFUSALS as e:
        msg = str(e)
        assert _names_one(msg, names), f"{what}: {type(e).__name__} {msg!r} does not name {names}"
        missing = [f for f in also if f.lower() not in msg.lower()]
        assert not missing, f"{what}: {type(e).__name__} {msg!r} lacks {missing}"
    else:
        raise AssertionError(f"{what}: deepcore accepted it")
    if torch_call is not None and torch is not None:
        try:
            torch_call()
        except Exception:
            return
        raise AssertionError(f"{what}: deepcore raised but torch computes it")


def torch_raises(torch_call):
    try:
        torch_call()
    except Exception:
        return True
    return False


def reduction_atol(x, dtype, axis=None):
    """Reductions in float32 may round differently from float64 pairwise sums: allow eps * sum|x| (finite part)."""
    finite = np.where(np.isfinite(x), np.abs(x), 0.0)
    total = finite.sum(axis=axis) if finite.size else 0.0
    eps = 1e-6 if dtype == "float32" else 1e-14
    return float(np.max(total, initial=0.0)) * eps * 8 + TOL[dtype][0]
