"""Random tensors from the Philox stream (csrc/cpu/random.cpp): rand, randn, randint, randperm, seeding;
the in-place fills (uniform_, normal_, exponential_, bernoulli_, random_), bernoulli, normal and
multinomial.

Every draw is made on the CPU, so one seed gives the same numbers on every device. Each takes
generator= (a deepcore.Generator: its own stream, see generator.py) where PyTorch does; without one
it draws from the global stream. Samples carry no gradient (PyTorch's are zero too: these draws are
not reparameterized).
"""
import numbers
import time

from .. import _C
from ..autograd import no_grad
from ..dtypes import bool_, float32, float64, int64
from ..tensor import Tensor, _default_float, _shape_arg, empty
from ..device import as_device
from ..generator import native_stream
from ._checks import check_tensor
from ._inplace import check_writable, records


def _random(kind, size, dtype, device, requires_grad, stream):
    """A `kind` ('rand' or 'randn') draw from `stream` (an engine stream, None: the global one)."""
    dev = as_device(device)
    dt = _default_float(dtype)
    if not dt.is_floating_point:
        raise TypeError(f"{kind}: dtype must be float32 or float64, got {dt.name}")
    nd = getattr(_C, kind)(_shape_arg(size, kind), dt._c, stream)
    t = Tensor._make(nd)
    if dev.type != "cpu":  # drawn on the CPU so a seed gives the same numbers on every device
        t = t.to(dev)
    if requires_grad:
        t.requires_grad = True
    return t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad, native_stream("rand", generator, device))


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    return _random("randn", size, dtype, device, requires_grad, native_stream("randn", generator, device))


def rand_like(t, dtype=None, device=None):
    return rand(*t.shape, dtype=dtype or t.dtype, device=device or t.device)


def randn_like(t, dtype=None, device=None):
    return randn(*t.shape, dtype=dtype or t.dtype, device=device or t.device)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, *, generator=None):
    """Integers uniform on [low, high): randint(high, size) or randint(low, high, size)."""
    stream = native_stream("randint", generator, device)
    if isinstance(high, (tuple, list)) and size is None:  # torch.randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    t = Tensor._make(_C.randint(int(low), int(high), _shape_arg((size,) if isinstance(size, int) else size,
                                                                "randint"), stream))
    t = t.to(dtype=dtype, device=device) if (dtype or device) else t
    return t.requires_grad_() if requires_grad else t


def randperm(n, dtype=None, device=None, *, generator=None):
    t = Tensor._make(_C.randperm(int(n), native_stream("randperm", generator, device)))
    return t.to(dtype=dtype, device=device) if (dtype or device) else t


def manual_seed(seed):
    """Seed deepcore's random numbers (CPU and CUDA share one stream)."""
    _C.manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


def seed():
    s = time.time_ns() & 0xFFFFFFFFFFFFFFFF
    _C.manual_seed(s)
    return s


def get_rng_state():
    return _C.get_rng_state()


def set_rng_state(state):
    seed_, offset = state
    _C.set_rng_state(int(seed_), int(offset))


# ---- in-place fills ------------------------------------------------------------------------------

def _fill(op, self, kernel, *params, generator=None):
    """Runs the native fill `kernel` on self (drawn on the CPU: a CUDA tensor gets a copy)."""
    check_tensor(op, "self", self)
    stream = native_stream(op, generator, self.device)
    records(op, self)
    check_writable(op, self)
    if not self.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 tensor, got {self.dtype.name}")
    if self.is_cuda:
        host = empty(*self.shape, dtype=self.dtype)
        getattr(_C, kernel)(host._data, *params, stream)
        with no_grad():
            self.copy_(host)
    else:
        getattr(_C, kernel)(self._data, *params, stream)
    return self


def _number(op, name, v):
    if isinstance(v, Tensor) and v.numel() == 1:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__}")
    return float(v)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fills self with numbers uniform on [a, b)."""
    lo, hi = _number("uniform_", "from", a), _number("uniform_", "to", b)
    if lo > hi:
        raise RuntimeError(f"uniform_: expects to return a [from, to) range, but found from={lo} > to={hi}")
    return _fill("uniform_", self, "uniform_", lo, hi, generator=generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills self with normal numbers of the given mean and standard deviation."""
    m, sd = _number("normal_", "mean", mean), _number("normal_", "std", std)
    if sd < 0:
        raise RuntimeError(f"normal_: expects std >= 0.0, but found std {sd}")
    return _fill("normal_", self, "normal_", m, sd, generator=generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fills self with exponential numbers of rate lambd (mean 1 / lambd)."""
    rate = _number("exponential_", "lambd", lambd)
    if not rate > 0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={rate}")
    return _fill("exponential_", self, "exponential_", rate, generator=generator)


def _uniform_like(shape, dtype, stream):
    """Host uniforms for the composed draws below (made on the CPU for any device, as every draw is)."""
    return _random("rand", shape, dtype if dtype.is_floating_point else float64, None, False, stream)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fills self with 1 with probability p (a number or a tensor broadcast to self), else 0."""
    check_tensor("bernoulli_", "self", self)
    return _bernoulli_fill("bernoulli_", self, p, native_stream("bernoulli_", generator, self.device))


def _bernoulli_fill(op, self, p, stream):
    records(op, self)
    check_writable(op, self)
    if isinstance(p, Tensor):
        _check_probabilities(op, p)
        u = _uniform_like(self.shape, p.dtype, stream)
        draw = u < p.detach().cpu().to(u.dtype)  # drawn on the host, compared there
    else:
        q = _number(op, "p", p)
        if not 0.0 <= q <= 1.0:
            raise RuntimeError(f"{op}: expects p to be in [0, 1], but got p={q}")
        draw = _uniform_like(self.shape, self.dtype, stream) < q
    with no_grad():
        self.copy_(draw.to(self.dtype))
    return self


def _check_probabilities(op, p):
    if not p.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a float32 or float64 tensor of probabilities, got {p.dtype.name}")
    if p.numel() and (p.detach().amin().item() < 0 or p.detach().amax().item() > 1 or
                      bool((p.detach() != p.detach()).any().item())):
        raise RuntimeError(f"{op}: Expected p_in >= 0 && p_in <= 1 to be true (probabilities of shape "
                           f"{tuple(p.shape)})")


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (elementwise; or with probability p, a number, for every element)."""
    check_tensor("bernoulli", "input", input)
    stream = native_stream("bernoulli", generator, input.device)
    if p is not None:
        out = empty(*input.shape, dtype=input.dtype if input.dtype.is_floating_point else float32)
        return _bernoulli_fill("bernoulli", out, p, stream).to(input.device)
    _check_probabilities("bernoulli", input)
    u = _uniform_like(input.shape, input.dtype, stream)
    return (u < input.detach().cpu()).to(input.dtype).to(input.device)


def random_(self, from_=0, to=None, *, generator=None, **kwargs):
    """Fills self with integers uniform on [from, to - 1]; random_(to): [0, to - 1]; random_(): every
    integer the dtype holds exactly ([0, 2^24] for float32, [0, 2^53] float64, [0, 2^63 - 1] int64)."""
    if "from" in kwargs:  # random_(from=..., to=...): `from` is a keyword in Python
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"random_: unexpected keyword arguments {sorted(kwargs)}")
    check_tensor("random_", "self", self)
    stream = native_stream("random_", generator, self.device)
    records("random_", self)
    check_writable("random_", self)
    if to is None and from_ != 0:
        lo, hi = 0, int(from_)
    elif to is None:
        top = {float32: 2 ** 24, float64: 2 ** 53, int64: 2 ** 63 - 1, bool_: 1}[self.dtype]
        lo, hi = 0, top + (1 if self.dtype is not int64 else 0)
    else:
        lo, hi = int(from_), int(to)
    if hi <= lo:
        raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    with no_grad():
        self.copy_(Tensor._make(_C.randint(lo, hi, _shape_arg(tuple(self.shape), "random_"), stream)))
    return self


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """torch.normal: normal numbers of mean and std, each a tensor (broadcast together) or a number;
    with two numbers, size gives the shape."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if size is not None:
        if tensors:
            raise RuntimeError("normal: size= is only accepted when mean and std are numbers")
        native_stream("normal", generator, device)
        out = empty(*_shape_arg((size,) if isinstance(size, int) else tuple(size), "normal"),
                    dtype=dtype, device=device)
        return normal_(out, mean, std, generator=generator).requires_grad_(requires_grad)
    if not tensors:
        raise TypeError("normal: give size= when mean and std are both numbers")
    for t in tensors:
        if not t.dtype.is_floating_point:
            raise TypeError(f"normal: mean and std must be float tensors, got {t.dtype.name}")
    if isinstance(std, Tensor) and std.numel() and std.detach().amin().item() < 0:
        raise RuntimeError("normal: expects std >= 0.0")
    if isinstance(std, numbers.Real) and std < 0:
        raise RuntimeError(f"normal: expects std >= 0.0, but found std {std}")
    ref = tensors[0]
    stream = native_stream("normal", generator, ref.device)
    shape = tuple(ref.shape) if len(tensors) == 1 else _broadcast(tuple(mean.shape), tuple(std.shape))
    with no_grad():
        z = _random("randn", shape, ref.dtype, ref.device, False, stream)
        m = mean.detach() if isinstance(mean, Tensor) else mean
        sd = std.detach() if isinstance(std, Tensor) else std
        return z * sd + m


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"normal: the shapes of mean {a} and std {b} do not broadcast")
        out.append(max(x, y) if 0 not in (x, y) else 0)
    return tuple(out)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices drawn from each row of input (non-negative weights, any scale): a 1-d input
    gives (num_samples,), a 2-d one (rows, num_samples). Without replacement, each category at most
    once per row."""
    check_tensor("multinomial", "input", input)
    stream = native_stream("multinomial", generator, input.device)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got {input.dtype.name}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    rows = input.detach().cpu().reshape(-1, input.shape[-1])  # one row per distribution
    try:
        out = Tensor._make(_C.multinomial(rows.contiguous()._data, int(num_samples), bool(replacement), stream))
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    out = out.reshape(int(num_samples)) if input.ndim == 1 else out
    return out.to(input.device) if input.is_cuda else out
