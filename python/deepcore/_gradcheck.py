"""deepcore.autograd.gradcheck: backward compared with central finite differences."""
import numpy as np

from .autograd import no_grad
from .dtypes import float64
from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare ``backward`` with central finite differences for ``fn(*inputs)``.

    Inputs that require grad must be float64 (float32 differences are too
    coarse). Returns True, or raises GradcheckError naming the input and the
    worst element (returns False with raise_exception=False).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff:
        t = inputs[i]
        if t.dtype is not float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype.name}; use float64 inputs (x.double())")
        if t._backend.has_nonfinite(t._data):
            raise ValueError(f"gradcheck: input {i} contains NaN or inf")

    def run():
        out = fn(*inputs)
        return out if isinstance(out, tuple) else (out,)

    outputs = [o for o in run() if isinstance(o, Tensor) and o.requires_grad]
    if not outputs:
        raise ValueError("gradcheck: the function's outputs do not require grad")
    rng = np.random.default_rng(0)
    # One random projection per output turns the check into a scalar function.
    weights = [rng.standard_normal(tuple(o.shape)) for o in outputs]

    def scalar():
        with no_grad():
            outs = [o for o in run() if isinstance(o, Tensor) and o.dtype.is_floating_point]
            return sum(float((o.detach().numpy().astype(np.float64) * w).sum()) for o, w in zip(outs, weights))

    for i in diff:
        inputs[i].grad = None
    total = None
    for o, w in zip(outputs, weights):
        term = (o * Tensor(w, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    total.backward()
    for i in diff:
        t = inputs[i]
        analytic = t.grad.numpy().copy() if t.grad is not None else np.zeros(tuple(t.shape))
        data = t.detach().numpy()  # shares memory with t: perturb in place
        numeric = np.zeros(data.shape)
        for idx in np.ndindex(*data.shape):
            orig = data[idx]
            data[idx] = orig + eps
            plus = scalar()
            data[idx] = orig - eps
            minus = scalar()
            data[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            worst = np.unravel_index(int(err.argmax()), err.shape)
            msg = (f"gradcheck: gradient of input {i} (shape {tuple(t.shape)}) differs at index {worst}: "
                   f"analytic {analytic[worst]:.8g} vs numeric {numeric[worst]:.8g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
        t.grad = None
    return True

