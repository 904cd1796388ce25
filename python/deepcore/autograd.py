"""Reverse-mode automatic differentiation.

Every differentiable op is a ``Function``: ``forward(ctx, *args)`` computes the
result, ``backward(ctx, *grads)`` returns one gradient per input. ``apply``
runs forward without recording and, when an input requires grad, links a
``Node`` into the graph. ``backward()`` walks that graph once in reverse
topological order.
"""
import contextlib
import sys
import threading
import weakref

from . import _C
from .tensor import Tensor


class _ThreadState(threading.local):
    grad_enabled = True  # class attributes: every thread starts with these
    anomaly = False
    inference = False


_state = _ThreadState()


def is_grad_enabled():
    return _state.grad_enabled


def _set_grad_enabled(mode):
    _state.grad_enabled = bool(mode)


def is_anomaly_enabled():
    return _state.anomaly


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator that turns gradient recording on or off."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_grad_enabled(self.mode)

    def __enter__(self):
        _set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)
        return False

    def __call__(self, func):
        _set_grad_enabled(self.prev)  # as a decorator, only the calls of `func` change the mode
        return super().__call__(func)

    def _recreate_cm(self):
        return set_grad_enabled(self.mode)  # each call saves (and restores) the mode it was called in


class no_grad(contextlib.ContextDecorator):
    """Inside ``with no_grad():`` ops are not recorded (used for parameter updates)."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)
        return False

    def _recreate_cm(self):
        return type(self)()  # a fresh one per call: recursive or nested calls must not share `prev`


class inference_mode(contextlib.ContextDecorator):
    """torch.inference_mode: no graph is recorded inside (deepcore's no_grad is already as cheap as
    PyTorch's inference mode: no version counters or views are tracked). ``inference_mode(False)``
    leaves grad mode as it is."""

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode must be a bool, got {type(mode).__name__}")
        self.mode = mode

    def __enter__(self):
        self.prev = is_grad_enabled(), _state.inference
        if self.mode:
            _set_grad_enabled(False)
        _state.inference = self.mode
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev[0])
        _state.inference = self.prev[1]
        return False

    def _recreate_cm(self):
        return type(self)(self.mode)


def is_inference_mode_enabled():
    return _state.inference


class enable_grad(contextlib.ContextDecorator):
    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_grad_enabled(True)
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)
        return False

    def _recreate_cm(self):
        return type(self)()


class detect_anomaly(contextlib.ContextDecorator):
    """Inside, every op checks its inputs and outputs (and every backward its
    gradients) for NaN/inf and raises FloatingPointError naming the op."""

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self.prev = is_anomaly_enabled()
        _state.anomaly = self.mode
        return self

    def __exit__(self, *exc):
        _state.anomaly = self.prev
        return False


def set_detect_anomaly(mode):
    _state.anomaly = bool(mode)


class Context:
    """What forward leaves for backward: saved tensors and any attributes."""

    def __init__(self):
        self._saved = ()
        self._versions = ()
        self._freed = False
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._versions = tuple(t._data.version if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError("Trying to backward through the graph a second time (or directly access saved "
                               "tensors after they have already been freed). Saved intermediate values of the "
                               "graph are freed when you call .backward(); specify retain_graph=True if you "
                               "need to backward through the graph a second time.")
        saved = self._saved
        if any(type(t) is _SavedOutput for t in saved):
            saved = tuple(t.unpack() if type(t) is _SavedOutput else t for t in saved)
        for t, v in zip(saved, self._versions):
            if t is not None and t._data.version != v:
                raise RuntimeError(f"one of the variables needed for gradient computation has been modified by "
                                   f"an inplace operation: a tensor of shape {tuple(t.shape)} is at version "
                                   f"{t._data.version}; expected version {v}")
        return saved


class _SavedOutput:
    """An op's own output kept for its backward (sigmoid, tanh, exp, relu ...) without the cycle
    output -> node -> context -> output, which only the cyclic collector could free: every graph
    dropped without backward would wait for it. Like PyTorch's SavedVariable, it holds the output's
    storage and a weak reference to its node, and unpacks into a tensor that shares both."""

    __slots__ = ("data", "node", "output_nr")

    def __init__(self, t, node):
        self.data = t._data
        self.node = weakref.ref(node)
        self.output_nr = t._output_nr

    def unpack(self):
        t = Tensor._make(self.data)
        node = self.node()
        if node is not None:
            t.grad_fn = node
            t._output_nr = self.output_nr
            t._requires_grad = True
        return t


class Node:
    """One recorded op in the graph: the Function, its context, and where the
    gradients of its inputs go (``edges``: (node, output_nr) or None per input)."""

    __slots__ = ("fn", "ctx", "edges", "num_outputs", "name", "hooks", "__weakref__")

    def __init__(self, fn, ctx, edges, num_outputs):
        self.fn = fn
        self.ctx = ctx
        self.edges = edges
        self.num_outputs = num_outputs
        self.name = fn.__name__
        self.hooks = None  # {output_nr: [fn]}: Tensor.register_hook on that output

    def __repr__(self):
        return f"<{self.name}Backward>"

    def apply(self, grads):
        ctx = self.ctx
        if ctx._freed:
            ctx.saved_tensors  # raises the "second time" error
        out = self.fn.backward(ctx, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        return out

    def release(self):
        self.ctx._saved = ()
        self.ctx._freed = True


class AccumulateGrad:
    """The sink of a leaf tensor: adds incoming gradients into ``leaf.grad``.

    The leaf holds its sink (``leaf._accumulator``, where its hooks live) and the sink only a weak
    reference back: a strong one would make every leaf a reference cycle that only the cyclic GC frees,
    so a loop creating fresh leaves would hold dozens of dead ones (and their gradients) at a time.
    A leaf that dies while a graph still reaches it has no ``.grad`` left to fill. ``lock`` makes
    backward passes from several threads into one leaf add their gradients one at a time."""

    __slots__ = ("_leaf", "edges", "num_outputs", "name", "hooks", "post_hooks", "lock", "__weakref__")

    def __init__(self, leaf):
        self._leaf = weakref.ref(leaf)
        self.edges = ()
        self.num_outputs = 1
        self.name = "AccumulateGrad"
        self.hooks = None
        self.post_hooks = None  # [fn(leaf)]: register_post_accumulate_grad_hook, after .grad is updated
        self.lock = threading.Lock()

    @property
    def leaf(self):
        """The leaf tensor, or None once it has been freed."""
        return self._leaf()

    def __repr__(self):
        return "<AccumulateGrad>"


class Function:
    """Base class for differentiable ops, built-in and user-written.

    Subclass it with two static methods::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                x, = ctx.saved_tensors
                return 2 * x * grad

        y = Square.apply(x)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must implement backward(ctx, ...) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        state = _state
        record = False
        if state.grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    break
        ctx = Context()
        if record:
            needs = ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        anomaly = state.anomaly
        if anomaly:
            _check_finite(cls.__name__, "input", [a for a in args if isinstance(a, Tensor)])
        prev = state.grad_enabled
        state.grad_enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            state.grad_enabled = prev
        if not record and not anomaly:
            return out
        outputs = out if isinstance(out, tuple) else (out,)
        if anomaly:
            _check_finite(cls.__name__, "output", [o for o in outputs if isinstance(o, Tensor)])
        if record:
            edges = tuple([_edge_of(a) if need else None for a, need in zip(args, needs)])
            node = Node(cls, ctx, edges, len(outputs))
            if len(outputs) > 1:
                ctx._out_meta = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None
                                 for o in outputs]
            for i, o in enumerate(outputs):
                if isinstance(o, Tensor) and o._dtype.is_floating_point:
                    o.grad_fn = node
                    o._output_nr = i
                    o._requires_grad = True
            if ctx._saved:
                recorded = {id(o) for o in outputs if isinstance(o, Tensor) and o.grad_fn is node}
                if any(id(t) in recorded for t in ctx._saved):
                    ctx._saved = tuple(_SavedOutput(t, node) if id(t) in recorded else t for t in ctx._saved)
        return out


_SINK_LOCK = threading.Lock()  # taken only to create a leaf's sink


def _edge_of(t):
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._accumulator
    if acc is None:
        with _SINK_LOCK:  # threads racing here must not give one leaf two sinks (two locks, split hooks)
            acc = t._accumulator
            if acc is None:
                acc = t._accumulator = AccumulateGrad(t)
    return (acc, 0)


def _check_finite(op, what, tensors):
    for t in tensors:
        if t.dtype.is_floating_point and t._backend.has_nonfinite(t._data):
            shapes = ", ".join(str(tuple(x.shape)) for x in tensors)
            raise FloatingPointError(f"{op}: {what} contains NaN or inf (anomaly detection; {what} shapes: {shapes})")


def _topological_order(roots):
    """Nodes reachable from `roots`, each after every node that feeds it a gradient."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.edges))]
        while stack:
            node, it = stack[-1]
            for edge in it:
                if edge is not None and id(edge[0]) not in seen:
                    seen.add(id(edge[0]))
                    stack.append((edge[0], iter(edge[0].edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def backward(tensors, grad_tensors=None, retain_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (only the leaves in `inputs` when given).
    Callbacks queued during the pass (queue_callback) run after it, in order."""
    callbacks = []
    _callback_stack.append(callbacks)
    try:
        _run_backward(tensors, grad_tensors, retain_graph, inputs, None)
    finally:
        _callback_stack.pop()
    for fn in callbacks:
        fn()


class _CallbackStack(threading.local):
    def __init__(self):
        self.lists = []

    def append(self, item):
        self.lists.append(item)

    def pop(self):
        return self.lists.pop()


_callback_stack = _CallbackStack()


def queue_callback(fn):
    """Runs fn() when the backward pass running in this thread has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``; DistributedDataParallel waits for its last gradient
    all-reduce there). Only valid inside a backward pass: from a hook."""
    if not callable(fn):
        raise TypeError(f"queue_callback: expected a callable, got {type(fn).__name__}")
    if not _callback_stack.lists:
        raise RuntimeError("queue_callback: no backward pass is running in this thread (call it from a hook)")
    _callback_stack.lists[-1].append(fn)


def register_post_accumulate_grad_hook(t, fn):
    """Tensor.register_post_accumulate_grad_hook (leaves only): fn(t) runs right after backward has added
    into t.grad; its return value is ignored. remove() on the returned handle takes it off."""
    if not t.requires_grad or t.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: only a leaf tensor that requires grad can take "
                           "a post-accumulate-grad hook")
    if not callable(fn):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(fn).__name__}")
    node, _ = _edge_of(t)
    if node.post_hooks is None:
        node.post_hooks = []
    node.post_hooks.append(fn)
    return RemovableHandle(node.post_hooks, fn)


def _run_backward(tensors, grad_tensors, retain_graph, inputs, captured):
    """backward(); with `captured` (a dict keyed by (id(node), output_nr) of the gradients wanted), the
    gradients reaching those keys are stored there instead, and no ``.grad`` is touched."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    buffers = {}
    roots = []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError("backward: the tensor does not require grad and has no grad_fn (did you create it "
                               "under no_grad(), or forget requires_grad=True on the inputs?)")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs; this output "
                                   f"has shape {tuple(t.shape)}, so pass gradient= a tensor of that shape")
            if t.dtype.is_floating_point and t._backend.has_nonfinite(t._data):
                raise FloatingPointError(f"backward: the output is {t.item()}; wrap the forward pass in "
                                         f"deepcore.autograd.detect_anomaly() to find the op that produced it")
            g = Tensor._make(t._backend.full_on(list(t.shape), 1.0, t.dtype._c, t.device.index))
        else:
            if not isinstance(g, Tensor):
                g = Tensor(g, dtype=t.dtype)
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"backward: gradient has shape {tuple(g.shape)} but the output has shape "
                                   f"{tuple(t.shape)}")
        node = t.grad_fn if t.grad_fn is not None else _edge_of(t)[0]
        nr = t._output_nr if t.grad_fn is not None else 0
        _accumulate(buffers, node, nr, g.detach())
        roots.append(node)
    only = None if inputs is None else {id(t) for t in inputs}
    wanted = None if captured is None else {key[0] for key in captured}
    anomaly = is_anomaly_enabled()
    # The ops inside a backward formula are not checked one by one: its gradients are, naming the node.
    with no_grad(), detect_anomaly(False):
        for node in _topological_order(roots):
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue
            if node.hooks:
                _run_hooks(node, grads)
            if isinstance(node, AccumulateGrad):
                leaf = node.leaf
                if leaf is None:
                    continue
                if wanted is not None:
                    if id(node) in wanted:
                        captured[(id(node), 0)] = _captured_leaf_gradient(leaf, grads)
                elif only is None or id(leaf) in only:
                    _accumulate_leaf(node, leaf, grads)
                    if node.post_hooks:
                        for fn in list(node.post_hooks):
                            fn(leaf)
                continue
            if wanted is not None and id(node) in wanted:
                _capture(node, grads, captured)
            _propagate(node, grads, buffers, retain_graph, anomaly)


class RemovableHandle:
    """What register_hook returns: remove() takes the hook off again."""

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def register_hook(t, fn):
    """Tensor.register_hook: fn(grad) runs when t's gradient is complete, before it flows on (or into
    a leaf's .grad); a tensor it returns replaces the gradient."""
    if not t.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
    if not callable(fn):
        raise TypeError(f"register_hook: hook must be callable, got {type(fn).__name__}")
    node, nr = _edge_of(t)
    if node.hooks is None:
        node.hooks = {}
    hooks = node.hooks.setdefault(nr, [])
    hooks.append(fn)
    return RemovableHandle(hooks, fn)


def retain_grad(t):
    """Tensor.retain_grad: a non-leaf keeps its gradient in .grad after backward (accumulating, as a
    leaf's does); a no-op for leaves."""
    if not t.requires_grad:
        raise RuntimeError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
    if t.grad_fn is None or t._retains_grad:
        return
    t._retains_grad = True
    ref = weakref.ref(t)  # the graph must not keep the tensor alive

    def keep(g):
        owner = ref()
        if owner is not None:
            owner.grad = g.detach().clone() if owner.grad is None else owner.grad + g.detach()
    register_hook(t, keep)


def _run_hooks(node, grads):
    """Runs the hooks on a node's outputs (a leaf's sink: on the leaf) in registration order."""
    for nr, fns in node.hooks.items():
        for fn in list(fns):
            if grads[nr] is None:
                break
            out = fn(grads[nr])
            if out is not None:
                if not isinstance(out, Tensor) or tuple(out.shape) != tuple(grads[nr].shape):
                    raise RuntimeError(f"hook: a hook must return None or a tensor of the gradient's shape "
                                       f"{tuple(grads[nr].shape)}, got "
                                       f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
                grads[nr] = out.detach()


def _zeros_like_meta(meta):
    if meta is None:
        return None
    shape, dtype, device = meta
    return Tensor._make(Tensor._backend_of(device).full_on(list(shape), 0.0, dtype._c, device.index))


def _propagate(node, grads, buffers, retain_graph, anomaly):
    """Runs node's backward and files each input gradient under the node it flows to. A function of
    its own so that no loop variable keeps a gradient alive (see _sole_owner)."""
    if node.num_outputs > 1:  # unused outputs get zero gradients, as in PyTorch
        grads = [g if g is not None else _zeros_like_meta(m) for g, m in zip(grads, node.ctx._out_meta)]
    in_grads = node.apply(grads)
    if not retain_graph:
        node.release()
    for edge, g in zip(node.edges, in_grads):
        if edge is None or g is None:
            continue
        if anomaly:
            _check_finite(node.name + "Backward", "gradient", [g])
        _accumulate(buffers, edge[0], edge[1], g)


def _capture(node, grads, captured):
    """Files the gradients of a non-leaf's outputs that autograd.grad asked for (a function of its own:
    see _propagate)."""
    for nr, g in enumerate(grads):
        if (id(node), nr) in captured:
            captured[(id(node), nr)] = g


def _accumulate(buffers, node, nr, g):
    slot = buffers.get(id(node))
    if slot is None:
        slot = buffers[id(node)] = [None] * node.num_outputs
    slot[nr] = g if slot[nr] is None else slot[nr] + g


_FRESH_REFS = None  # what _sole_owner counts for a tensor only its caller's variable holds


def _sole_owner(g, measure=False):
    """True when nothing but the caller's one variable can reach `g` or its memory: the backward pass
    made it (one owner of its buffer, no other Python reference), it covers its whole buffer
    contiguously and carries no graph, so a leaf may keep it as .grad without a copy. The reference
    counts are compared with those of a fresh tensor passed the same way (_fresh_refs), not with
    constants, so an interpreter that counts borrowed references differently only loses the saving."""
    nd = g._data
    refs = (sys.getrefcount(g), sys.getrefcount(nd))  # g: and no other variable; nd: and no other Tensor
    if measure:
        return refs
    return (refs == (_FRESH_REFS or _fresh_refs())
            and nd.storage_use_count == 1 and nd.offset == 0 and nd.is_contiguous()
            and nd.numel * g.dtype.itemsize == nd.storage_nbytes and g.grad_fn is None)


def _fresh_refs():
    global _FRESH_REFS
    g = Tensor._make(_C.full([1], 0.0, _C.DType.float32))  # held by this variable only, as in _accumulate_leaf
    _FRESH_REFS = _sole_owner(g, measure=True)
    return _FRESH_REFS


def _leaf_gradient(leaf, grads):
    g = grads.pop()  # the leaf's one-slot buffer: after this, the caller holds the engine's only reference
    if tuple(g.shape) != tuple(leaf.shape):
        raise RuntimeError(f"backward: gradient of shape {tuple(g.shape)} does not match the leaf's shape "
                           f"{tuple(leaf.shape)}")
    return g if g.dtype is leaf.dtype else g.to(leaf.dtype)


# Gradients may be views, or tensors other leaves or saved values share: those are copied before a
# leaf keeps one. A fresh kernel output nobody else can reach is kept as it is (a copy of every
# weight's gradient per step otherwise). Both callers test _sole_owner on their own one variable.

def _accumulate_leaf(node, leaf, grads):
    g = _leaf_gradient(leaf, grads)
    with node.lock:  # the test and the in-place add must not interleave with another thread's
        if leaf.grad is None:
            leaf.grad = g if _sole_owner(g) else Tensor._make(leaf._backend.cast(g._data, leaf.dtype._c))
        else:
            leaf.grad._backend.binary(_C.BinaryOp.add, leaf.grad._data, g._data, leaf.grad._data)


def _captured_leaf_gradient(leaf, grads):
    g = _leaf_gradient(leaf, grads)
    return g if _sole_owner(g) else Tensor._make(leaf._backend.cast(g._data, leaf.dtype._c))


def grad(outputs, inputs, grad_outputs=None, retain_graph=False):
    """The gradients of `outputs` w.r.t. `inputs` (leaves or not), returned instead of accumulated into
    .grad: they are collected per call, so concurrent calls on a shared model do not mix; None for an
    input the outputs do not depend on."""
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.grad: inputs must be tensors, got {type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad (one of the differentiated "
                               f"Tensors does not require grad)")
    keys = [(id(node), nr) for node, nr in (_edge_of(t) for t in inputs)]
    captured = dict.fromkeys(keys)
    _run_backward(outputs, grad_outputs, retain_graph, None, captured)
    result = tuple(captured[k] for k in keys)
    return result[0] if single else result


# The finite-difference check lives in _gradcheck.py (it needs this module's no_grad); imported last,
# so deepcore.autograd.gradcheck keeps its place.
from ._gradcheck import GradcheckError, gradcheck  # noqa: E402,F401
