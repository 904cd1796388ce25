"""L-BFGS with an optional strong-Wolfe line search (PyTorch's algorithm, composed of tensor ops).

All parameters are handled as one flat vector (the concatenation of their gradients); the curvature
pairs (s, y) of the last `history_size` iterations give the search direction by the two-loop
recursion. Scalars (the loss, directional derivatives, step sizes) are Python floats.
"""
import numbers

import numpy as np

from ..autograd import enable_grad, no_grad
from ..ops.shape import cat
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _number


def _dot(a, b):
    return (a * b).sum().item()


def _abs_max(v):
    return v.abs().max().item()


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to `bounds`
    (default: the interval between x1 and x2); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = disc ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step t along d meeting the strong Wolfe conditions (sufficient decrease c1, curvature c2):
    bracket a minimum by growing t, then zoom in by cubic interpolation. `evaluate(t)` returns
    (loss, flat gradient) at x + t d. Returns (loss, gradient, t, evaluations)."""
    d_norm = _abs_max(d)
    f_new, g_new = evaluate(t)
    evals, gtd_new = 1, _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done, ls_iter = False, 0
    bracket = None
    while ls_iter < max_ls:  # bracketing phase
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [[t, f_new, g_new, gtd_new]], True
            break
        if gtd_new >= 0:
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals, gtd_new = evals + 1, _dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [[0.0, f, g, gtd], [t, f_new, g_new, gtd_new]]
    assert bracket is not None

    # Zoom: shrink the bracket [low, high] (low has the smaller loss) until the conditions hold.
    insufficient_progress = False
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1][0] - bracket[0][0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0][0], bracket[0][1], bracket[0][3], bracket[1][0], bracket[1][1],
                           bracket[1][3])
        # Too close to an end of the bracket (or outside it): move a tenth of the width inside.
        lo_t, hi_t = min(bracket[0][0], bracket[1][0]), max(bracket[0][0], bracket[1][0])
        eps = 0.1 * (hi_t - lo_t)
        if min(hi_t - t, t - lo_t) < eps:
            if insufficient_progress or t >= hi_t or t <= lo_t:
                t = hi_t - eps if abs(t - hi_t) < abs(t - lo_t) else lo_t + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals, gtd_new = evals + 1, _dot(g_new, d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, g_new, gtd_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """``torch.optim.LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)``.

    One ``step(closure)`` runs up to `max_iter` iterations (up to `max_eval` closure calls, default
    max_iter * 5 // 4); the closure clears the gradients, computes the loss, calls backward and returns
    the loss. Without a line search each iteration steps by lr (the first by min(1, 1/|g|_1) * lr);
    ``line_search_fn='strong_wolfe'`` searches along the direction instead. One parameter group only.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    @classmethod
    def _check_options(cls, o):
        lr = _number(o["lr"], "lr", "LBFGS")
        _check(lr >= 0, f"Invalid learning rate: {lr}")
        for name in ("max_iter", "max_eval", "history_size"):
            value = o[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"LBFGS: {name} must be a positive integer, got {value!r}")
        _number(o["tolerance_grad"], "tolerance_grad", "LBFGS")
        _number(o["tolerance_change"], "tolerance_change", "LBFGS")
        if o["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, got "
                               f"{o['line_search_fn']!r}")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ---- the parameters as one flat vector ------------------------------------------------
    def _flat_grad(self):
        parts = [p.grad.detach().reshape(-1) if p.grad is not None else self._zeros_like(p).reshape(-1)
                 for p in self._params]
        return cat(parts, 0) if len(parts) > 1 else parts[0].clone()

    def _add_step(self, t, direction):
        """p += t * direction, the flat direction cut into the parameters' shapes."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(direction[offset:offset + n].reshape(tuple(p.shape)) * t)
            offset += n

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return loss

    @staticmethod
    def _float(loss):
        return loss.item() if isinstance(loss, Tensor) else float(loss)

    def step(self, closure):
        """Run the iterations of one optimization step; returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step requires a closure that reevaluates the model and returns the loss")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), int(group["max_iter"]), int(group["max_eval"])
        tol_grad, tol_change = float(group["tolerance_grad"]), float(group["tolerance_change"])
        line_search, history_size = group["line_search_fn"], int(group["history_size"])
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = self._float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _abs_max(flat_grad) <= tol_grad:  # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # steepest descent to start
                d, old_dirs, old_stps, ro, H_diag = -flat_grad, [], [], [], 1.0
            else:
                d, H_diag = self._direction(state, flat_grad, prev_flat_grad, d, t, old_dirs, old_stps, ro, H_diag,
                                            history_size)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss
            t = min(1.0, 1.0 / flat_grad.abs().sum().item()) * lr if state["n_iter"] == 1 else lr
            gtd = _dot(flat_grad, d)
            if gtd > -tol_change:  # not a descent direction any more
                break

            step_evals = 0
            if line_search is not None:
                start = [p.clone() for p in self._params]

                def evaluate(step_size):
                    self._add_step(step_size, d)
                    value = self._float(self._evaluate(closure))
                    grad = self._flat_grad()
                    for p, x in zip(self._params, start):
                        p.copy_(x)
                    return value, grad

                loss, flat_grad, t, step_evals = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd,
                                                               max_ls=max_eval - evals)
                self._add_step(t, d)
                optimal = _abs_max(flat_grad) <= tol_grad
            else:
                self._add_step(t, d)
                optimal = False
                if n_iter != max_iter:  # the last iteration's loss is the next step's first one
                    loss = self._float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    optimal = _abs_max(flat_grad) <= tol_grad
                    step_evals = 1
            evals += step_evals
            state["func_evals"] += step_evals

            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if _abs_max(d * t) <= tol_change or abs(loss - prev_loss) < tol_change:  # no progress
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    @staticmethod
    def _direction(state, flat_grad, prev_flat_grad, d, t, old_dirs, old_stps, ro, H_diag, history_size):
        """Record the last curvature pair (when it is positive) and return the two-loop recursion's
        direction -H g with the updated H_diag."""
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = _dot(y, s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            H_diag = ys / _dot(y, y)
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = _dot(old_stps[i], q) * ro[i]
            q.sub_(old_dirs[i] * al[i])
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = _dot(old_dirs[i], r) * ro[i]
            r.add_(old_stps[i] * (al[i] - be_i))
        return r, H_diag

    # ---- serialization: the state holds flat vectors and lists of them ---------------------------
    @staticmethod
    def _load_value(p, name, value):
        if isinstance(value, (list, tuple)):
            return [LBFGS._load_value(p, name, v) for v in value]
        if value is None or isinstance(value, numbers.Number):
            return value
        if isinstance(value, Tensor):
            t = value.detach().clone()
        elif hasattr(value, "__array__"):  # e.g. a torch tensor
            arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            if arr.ndim == 0:
                return arr.item()  # PyTorch keeps some scalars (H_diag, ro, t) as 0-d tensors
            t = Tensor(np.array(arr))
        else:
            return value
        return t.to(dtype=p.dtype, device=p.device).contiguous()
