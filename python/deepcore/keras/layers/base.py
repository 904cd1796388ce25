"""Layer, Node, InputLayer and Input: the functional-API machinery (the symbolic KerasTensor is
_symbolic.py's).

A Layer is a deepcore ``nn.Module`` whose weights are ``nn.Parameter`` s (trainable) or buffers
(non-trainable), so deepcore.optim trains them and a layer reused in two models shares them.
Calling a layer on KerasTensors records a Node (which layer, which inputs) and returns new
KerasTensors carrying the Keras-visible shape; a Model later replays the recorded graph on real
tensors.

Layout: tensors of rank 4 are (N, H, W, C) in Keras but kept (N, C, H, W) inside a model (what
the conv/pool kernels read). Built-in layers that declare ``_internal_layout = True`` receive that
internal layout; every other layer (user subclasses, Lambda) sees Keras' layout, converted at
its edges (``_common.to_keras`` / ``to_internal``; a no-op for other ranks).
"""
import contextvars
import inspect

import numpy as np

from ...autograd import no_grad
from ...nn import Module, Parameter
from ...tensor import Tensor, zeros
from .. import constraints, initializers, regularizers
from .._common import as_list, as_tensor, serialize, snake_case, to_internal, to_keras, unpack
from .._symbolic import KerasTensor, is_symbolic
from ..config import unique_name


class Node:
    """One call of `layer` on `inbound` KerasTensors, producing `outputs`."""

    def __init__(self, layer, inbound, outputs, kwargs):
        self.layer, self.inbound, self.outputs, self.kwargs = layer, inbound, outputs, kwargs


class _WeightSpec:
    __slots__ = ("name", "attr", "trainable", "to_keras", "from_keras", "regularizer", "constraint")

    def __init__(self, name, attr, trainable, to_keras=None, from_keras=None, regularizer=None, constraint=None):
        self.name, self.attr, self.trainable = name, attr, trainable
        self.to_keras, self.from_keras = to_keras, from_keras
        self.regularizer, self.constraint = regularizer, constraint


# Set by load_model while it rebuilds a model from a file: called with (layer, name, shape) before a
# weight is allocated, so a config asking for more than the file's weights fails before the memory is spent.
weight_guard: contextvars.ContextVar = contextvars.ContextVar("weight_guard", default=None)


def _shape_tuple(shape):
    return None if shape is None else tuple(None if s is None else int(s) for s in shape)


class Layer(Module):
    """Base class of Keras layers. Subclass it as in Keras::

        class Scale(Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units
            def build(self, input_shape):
                self.w = self.add_weight(name='w', shape=(input_shape[-1], self.units),
                                         initializer='glorot_uniform', trainable=True)
                super().build(input_shape)
            def call(self, inputs):
                return inputs.matmul(self.w)
            def get_config(self):
                return dict(super().get_config(), units=self.units)
    """
    _internal_layout = False  # built-ins that take NCHW rank-4 tensors directly set True

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, batch_input_shape=None,
                 input_dim=None, batch_size=None, weights=None, activity_regularizer=None, **kwargs):
        super().__init__()
        object.__setattr__(self, "training", False)  # Keras' default learning phase: inference (fit turns it on)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = dtype or "float32"
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self._batch_input_shape = _shape_tuple(batch_input_shape)
        self._initial_weights = weights
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._weight_specs = []
        self._inbound_nodes = []
        self._activity_penalties = []
        self._added_losses = []
        self._call_takes_training = "training" in inspect.signature(self.call).parameters
        self._call_takes_mask = False

    # ---- weights ---------------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None, _to_keras=None, _from_keras=None):
        """Creates a weight of `shape` (initialized by `initializer`, glorot_uniform by default) and
        returns it: an nn.Parameter when trainable, else a buffer. `regularizer`'s penalty is added to
        the training loss; `constraint` projects the weight after every optimizer update (the Keras
        optimizer reads it from the weight's ``constraint`` attribute, as Keras 3's
        ``variable.constraint``, with the layout converters to hand it Keras' layout)."""
        if name is None:
            name = f"weight_{len(self._weight_specs)}"
        if shape is None:
            raise ValueError(f"{self.name}.add_weight({name!r}): a shape is required")
        shape = tuple(int(s) for s in shape)
        guard = weight_guard.get()
        if guard is not None:
            guard(self, name, shape)
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        with no_grad():
            value = init(shape, dtype) if callable(init) else None
            if not isinstance(value, Tensor):
                value = as_tensor(np.broadcast_to(np.asarray(value, np.float32), shape))
            value = value.float() if value.dtype.name != "float32" else value
            if _from_keras is not None:
                value = _from_keras(value)
        attr = name.replace("/", "_").replace(":", "_").replace(".", "_")
        if attr in self._parameters or attr in self._buffers:
            raise ValueError(f"{self.name}: a weight named {name!r} already exists")
        constraint = constraints.get(constraint)
        if trainable:
            w = Parameter(value.contiguous(), requires_grad=self._trainable)
            w.constraint = constraint
            w._keras_layout = (_to_keras, _from_keras)
            self.register_parameter(attr, w)
        else:
            w = value.contiguous()
            self.register_buffer(attr, w)
        self._weight_specs.append(_WeightSpec(name, attr, bool(trainable), _to_keras, _from_keras,
                                              regularizers.get(regularizer), constraint))
        return w

    def _weight(self, spec):
        return self._parameters[spec.attr] if spec.attr in self._parameters else self._buffers[spec.attr]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for spec in self._weight_specs:
            if spec.trainable:
                self._weight(spec).requires_grad_(self._trainable)
        for layer in self._sublayers():
            layer.trainable = value

    def _sublayers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def _own_weights(self, which):
        out = []
        for spec in self._weight_specs:
            trainable = spec.trainable and self._trainable
            if which == "all" or (which == "trainable") == trainable:
                out.append((self, spec))
        return out

    def _weight_entries(self, which="all"):
        """[(layer, spec)] in Keras' order, sublayers' weights included, each weight once."""
        out, seen = [], set()
        for layer, spec in self._own_weights(which) + [e for sub in self._sublayers()
                                                        for e in sub._weight_entries(which)]:
            key = (id(layer), spec.attr)
            if key not in seen:
                seen.add(key)
                out.append((layer, spec))
        return out

    @property
    def weights(self):
        return [layer._weight(spec) for layer, spec in self._weight_entries("all")]

    @property
    def trainable_weights(self):
        return [layer._weight(spec) for layer, spec in self._weight_entries("trainable")]

    @property
    def non_trainable_weights(self):
        return [layer._weight(spec) for layer, spec in self._weight_entries("non_trainable")]

    trainable_variables = trainable_weights
    variables = weights

    def get_weights(self):
        """The weights as NumPy arrays in Keras' layouts (Dense kernel (in, out), Conv2D (kh, kw, in, out))."""
        out = []
        for layer, spec in self._weight_entries("all"):
            t = layer._weight(spec).detach()
            out.append(np.array((spec.to_keras(t) if spec.to_keras else t).numpy(), copy=True))
        return out

    def set_weights(self, weights):
        entries = self._weight_entries("all")
        weights = list(weights)
        if len(weights) != len(entries):
            raise ValueError(f"You called `set_weights(weights)` on layer {self.name!r} with a weight list of "
                             f"length {len(weights)}, but the layer was expecting {len(entries)} weights.")
        converted = []
        for (layer, spec), value in zip(entries, weights):
            current = layer._weight(spec)
            arr = np.asarray(value.numpy() if hasattr(value, "numpy") and not isinstance(value, np.ndarray)
                             else value, dtype=np.float32)
            t = Tensor(np.ascontiguousarray(arr))
            t = spec.from_keras(t) if spec.from_keras else t
            if tuple(t.shape) != tuple(current.shape):
                keras_shape = tuple(spec.to_keras(current).shape) if spec.to_keras else tuple(current.shape)
                raise ValueError(f"Layer {layer.name!r} weight {spec.name!r} has shape {keras_shape}, but the "
                                 f"provided weight has shape {arr.shape}")
            converted.append((current, t))
        with no_grad():
            for current, t in converted:
                current.copy_(t)

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on {self.name}, but the layer isn't built. "
                             f"You can build it manually via: `{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ---- regularization -------------------------------------------------------------------------
    def _regularization_penalty(self):
        total = None
        for layer, spec in self._weight_entries("all"):
            if spec.regularizer is not None:
                term = spec.regularizer(layer._weight(spec))
                total = term if total is None else total + term
        return total

    @property
    def losses(self):
        pen = self._regularization_penalty()
        return ([pen] if pen is not None else []) + list(self._activity_penalties) + list(self._added_losses)

    def add_loss(self, losses, inputs=None):
        """Adds loss terms (scalar tensors, or callables returning one) that training minimizes on top of
        the compiled loss, e.g. a VAE's KL term: ``self.add_loss(K.mean(kl))`` inside ``call``. They
        hold for the current forward pass: each pass through a model starts with none. A tensor
        with more than one element is averaged."""
        for loss in as_list(losses):
            if is_symbolic(loss):
                raise ValueError(f"{self.name}.add_loss: {loss!r} is symbolic; add it to the model (model.add_loss), "
                                 f"or compute the loss from this layer's inputs inside call()")
            loss = loss() if callable(loss) else loss
            loss = as_tensor(loss)
            if loss.ndim:
                loss = loss.mean()
            self._added_losses.append(loss)

    # ---- subclass interface ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        """Default: run call() on zeros of that shape (batch 2) and read the result's shape."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        dummies = [zeros(*[2 if s is None else s for s in shape]) for shape in shapes]
        was_training = self.training
        self.train(False)
        try:
            with no_grad():
                out = self._call_keras_layout(unpack(dummies), training=False)
        finally:
            self.train(was_training)
            self._added_losses = []  # the dummy pass' add_loss terms are not real losses
        outs = as_list(out)
        result = [(None,) + tuple(o.shape[1:]) for o in outs]
        return result[0] if not isinstance(out, (list, tuple)) else result

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- calling ---------------------------------------------------------------------------------
    def _maybe_build(self, input_shapes):
        if not self.built:
            self.build(unpack(input_shapes) if isinstance(input_shapes, list) else input_shapes)
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None

    def __call__(self, inputs, **kwargs):
        xs = as_list(inputs)
        if xs and all(isinstance(x, KerasTensor) for x in xs):
            return self._call_symbolic(inputs, xs, kwargs)
        if any(isinstance(x, KerasTensor) for x in xs):
            raise TypeError(f"{self.name}: mixes symbolic (Input) and real tensors in one call")
        # Eager call on real tensors (Keras layout, as the user sees them).
        xs = [as_tensor(x) for x in xs]
        self._added_losses = []
        self._maybe_build([(None,) + tuple(x.shape[1:]) for x in xs] if isinstance(inputs, (list, tuple))
                          else (None,) + tuple(xs[0].shape[1:]))
        internal = [to_internal(x) for x in xs]
        training = kwargs.pop("training", None)
        out = self._run(internal if isinstance(inputs, (list, tuple)) else internal[0], training, kwargs)
        return [to_keras(o) for o in out] if isinstance(out, (list, tuple)) else to_keras(out)

    def _call_symbolic(self, inputs, xs, kwargs):
        shapes = [x.shape for x in xs]
        in_shape = shapes if isinstance(inputs, (list, tuple)) else shapes[0]
        self._maybe_build(in_shape)
        out_shape = self.compute_output_shape(in_shape)
        node_index = len(self._inbound_nodes)
        multi = isinstance(out_shape, list)
        outs = [KerasTensor(s, self, node_index, i) for i, s in enumerate(out_shape if multi else [out_shape])]
        node = Node(self, xs, outs, dict(kwargs))
        node.list_input, node.list_output = isinstance(inputs, (list, tuple)), multi
        self._inbound_nodes.append(node)
        return outs if multi else outs[0]

    def _run(self, inputs, training=None, kwargs=None):
        """Runs the layer on internal-layout tensors (what a Model does)."""
        kwargs = dict(kwargs or {})
        if self._internal_layout:
            if self._call_takes_training:
                kwargs["training"] = training
            out = self.call(inputs, **kwargs)
        else:
            keras_in = [to_keras(x) for x in inputs] if isinstance(inputs, (list, tuple)) else to_keras(inputs)
            out = self._call_keras_layout(keras_in, training, **kwargs)
            out = [to_internal(o) for o in out] if isinstance(out, (list, tuple)) else to_internal(out)
        if self.activity_regularizer is not None:
            self._activity_penalties = [self.activity_regularizer(o) for o in as_list(out)]
        return out

    def _call_keras_layout(self, inputs, training=None, **kwargs):
        if self._call_takes_training:
            kwargs["training"] = training
        return self.call(inputs, **kwargs)

    def forward(self, *args, **kwargs):  # nn.Module's entry point
        return self.__call__(*args, **kwargs)

    # ---- Keras introspection ---------------------------------------------------------------------
    def _node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has no defined {what}.")
        if len(self._inbound_nodes) > 1:
            shapes = {tuple(tuple(t.shape) for t in getattr(n, attr)) for n in self._inbound_nodes}
            if len(shapes) > 1:
                raise AttributeError(f"The layer {self.name!r} has multiple inbound nodes with different {what}s; "
                                     f"use get_{what.replace(' ', '_')}_at(node_index)")
        ts = getattr(self._inbound_nodes[0], attr)
        return ts

    @property
    def input(self):
        return unpack(self._node_attr("inbound", "input"))

    @property
    def output(self):
        return unpack(self._node_attr("outputs", "output"))

    @property
    def input_shape(self):
        if not self._inbound_nodes and self._batch_input_shape is not None:
            return self._batch_input_shape
        return unpack([t.shape for t in self._node_attr("inbound", "input shape")])

    @property
    def output_shape(self):
        return unpack([t.shape for t in self._node_attr("outputs", "output shape")])

    def get_input_at(self, node_index):
        return unpack(self._inbound_nodes[node_index].inbound)

    def get_output_at(self, node_index):
        return unpack(self._inbound_nodes[node_index].outputs)

    def extra_repr(self):
        return f"name={self.name!r}"


class InputLayer(Layer):
    _internal_layout = True

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None, sparse=False,
                 name=None, **kwargs):
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("InputLayer: give input_shape (or batch_input_shape)")
            batch_input_shape = (batch_size,) + tuple(input_shape)
        super().__init__(name=name or unique_name("input"), dtype=dtype, batch_input_shape=batch_input_shape,
                         **kwargs)
        self.built = True
        self.is_placeholder = True
        out = KerasTensor(self._batch_input_shape, self, 0, 0, name=self.name)
        node = Node(self, [], [out], {})
        node.list_input = node.list_output = False
        self._inbound_nodes.append(node)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_input_shape": list(self._batch_input_shape), "dtype": self.dtype, "sparse": False,
                "name": self.name}


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None, batch_size=None):
    """A symbolic input: ``Input(shape=(784,))`` (shape without the batch dimension)."""
    if shape is None and batch_shape is None:
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` argument.")
    if tensor is not None:
        raise NotImplementedError("Input(tensor=...) is not supported by deepcore.keras")
    if batch_shape is None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        batch_shape = (batch_size,) + shape
    layer = InputLayer(batch_input_shape=batch_shape, name=name, dtype=dtype)
    return layer._inbound_nodes[0].outputs[0]
