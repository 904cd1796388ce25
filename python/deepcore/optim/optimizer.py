"""Optimizer: param groups, lazily created state, state_dict, and one fused
native update per param group (the subclasses say which kernel and state).

The update runs on the parameters' NDArrays directly, so it is never recorded
by autograd; the kernels bump the storage versions they write, so a backward
through a tensor saved before ``step()`` still raises.
"""
import copy
import numbers
from itertools import chain

import numpy as np

from .. import _C
from .. import backend as _backends
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor


def _check(cond, message):
    if not cond:
        raise ValueError(message)


def _number(value, name, optimizer):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


class Optimizer:
    """Base class: ``Optimizer(params, defaults)`` where params is an iterable of
    tensors or of dicts (param groups) with per-group options."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._check_options(self.defaults)
        self.state = {}  # parameter tensor -> {name: tensor}; keyed by identity (Tensor hashes by id)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs; use a list instead")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- subclass interface -------------------------------------------------------
    @classmethod
    def _check_options(cls, options):
        """Raise ValueError for out-of-range hyperparameters (PyTorch's messages)."""

    def _update(self, group, backend, params, params_nd, grads_nd):
        """Run the group's fused kernel: `params` are the tensors with a gradient."""
        raise NotImplementedError

    # ---- param groups -------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs; use a list instead")
        elif params is None:
            raise ValueError("param_group has no 'params' entry")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the group is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} of the group has grad_fn "
                                 f"{p.grad_fn.name})")
            if not p.dtype.is_floating_point:
                raise TypeError(f"optimizer: parameter {i} of the group is {p.dtype.name}; only float32 and "
                                f"float64 tensors can be optimized")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer: a parameter appears more than once in one parameter group")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in known for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_options(group)
        self.param_groups.append(group)

    # ---- the update -----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set them to None (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad.detach() if p.grad.grad_fn is not None else p.grad
                    g._backend.copy_(g._data, g._backend.full_on([], 0.0, g.dtype._c, g.device.index))
                    p.grad = g

    def step(self, closure=None):
        """Update every parameter that has a gradient (one native call per group).
        `closure` re-evaluates the model and returns the loss (run with grad enabled)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            backend = _backends.for_array(params[0]._data)
            params_nd, grads_nd, write_back = [], [], []
            for p in params:
                nd = p._data
                if not nd.is_contiguous():  # the kernels walk memory linearly: update a copy, then copy back
                    work = backend.contiguous(nd)
                    write_back.append((nd, work))
                    nd = work
                params_nd.append(nd)
                g = p.grad._data
                grads_nd.append(g if g.is_contiguous() else backend.contiguous(g))
            self._update(group, backend, params, params_nd, grads_nd)
            for nd, work in write_back:
                backend.copy_(nd, work)
        return loss

    # ---- state helpers for the subclasses ------------------------------------------
    @staticmethod
    def _zeros_like(p, value=0.0):
        return Tensor._make(p._backend.full_on(list(p.shape), float(value), p.dtype._c, p.device.index))

    @staticmethod
    def _step_counter():
        return Tensor._make(_C.full([], 0.0, _C.DType.float32))  # float32 0-d, as PyTorch keeps 'step'

    def _states(self, params, init):
        """The state dict of each parameter, created by init(p) (a dict of tensors) on first use."""
        out = []
        for p in params:
            st = self.state.get(p)
            if not st:
                st = init(p)
                self.state[p] = st
            out.append(st)
        return out

    # ---- serialization --------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: tensor}}, 'param_groups': [{options..., 'params': [indices]}]},
        PyTorch's layout: parameters are numbered across groups in order. Tensors are shared, not copied."""
        index, groups, start = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            index.update({id(p): i for p, i in zip(group["params"], packed["params"])})
            start += len(group["params"])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s and id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state_dict (a deepcore one, or PyTorch's: tensors are converted); tensors are copied and
        cast to their parameter's dtype (except 'step')."""
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups' entries") from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                             f"than the optimizer ({len(self.param_groups)})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group (group {i}: {len(s['params'])} saved, {len(g['params'])} here)")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state = {}
        for key, values in saved_state.items():
            if key not in id_map:
                raise ValueError(f"load_state_dict: state for parameter index {key!r}, which no group lists")
            p = id_map[key]
            state[p] = {name: self._load_value(p, name, v) for name, v in values.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            merged = {k: v for k, v in g.items() if k != "params"}
            merged.update({k: copy.deepcopy(v) for k, v in s.items() if k != "params"})
            if isinstance(merged.get("betas"), list):
                merged["betas"] = tuple(merged["betas"])
            self._check_options(merged)
            merged["params"] = g["params"]
            new_groups.append(merged)
        self.state = state
        self.param_groups = new_groups

    _scalar_states: tuple = ("step",)  # 0-d float32 state entries, whatever the parameter's shape and dtype

    def _load_value(self, p, name, value):
        if isinstance(value, Tensor):
            t = value.detach()
        elif hasattr(value, "__array__") and not isinstance(value, numbers.Number):  # e.g. a torch tensor
            arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            t = Tensor(np.array(arr))
        elif name in self._scalar_states and isinstance(value, numbers.Real):
            t = Tensor(np.array(float(value), dtype=np.float32))
        else:
            return copy.deepcopy(value)
        if name in self._scalar_states:
            return (t.clone() if t.dtype.is_floating_point else t.float()).contiguous()
        if tuple(t.shape) != tuple(p.shape):
            raise ValueError(f"load_state_dict: state '{name}' has shape {tuple(t.shape)} but its parameter has "
                             f"shape {tuple(p.shape)}")
        out = t.to(dtype=p.dtype, device=p.device)
        if out is t or out._data.shares_storage(t._data):
            out = out.clone()
        return out.contiguous()

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


class ComposedOptimizer(Optimizer):
    """An optimizer whose update is composed of deepcore tensor ops (in place, under no_grad) instead of one
    fused kernel: the subclasses define ``_update_group(group, params, grads)``, grads already negated when
    ``maximize``. Several ops per parameter, so slower than the fused ones, but the same formulas as PyTorch's
    single-tensor path, operation by operation."""

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    grads = [-p.grad if group.get("maximize") else p.grad for p in params]
                    self._update_group(group, params, grads)
        return loss

    def _update_group(self, group, params, grads):
        raise NotImplementedError

    def _update(self, group, backend, params, params_nd, grads_nd):  # the fused path is not used
        raise NotImplementedError(f"{type(self).__name__} has no fused kernel")


def lerp_(start, end, weight):
    """start += weight * (end - start) in place, in the two forms PyTorch's lerp uses (the second for
    weight >= 0.5, so weight = 1 gives end exactly)."""
    if weight < 0.5:
        start.add_((end - start) * weight)
    else:
        start.copy_(end - (end - start) * (1.0 - weight))
    return start


def _unsupported_flags(name, **flags):
    """PyTorch's implementation switches: foreach only picks a loop (accepted); the others change what the
    update is or where it runs, which deepcore does not do yet."""
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"{name}: {flag}=True is not supported (no such implementation in deepcore)")
