"""Network: the functional graph under every Model, ``Model(inputs, outputs)``.

Calling layers on KerasTensors records Nodes (layers/base.py); a Network collects the nodes
between its Input tensors and its outputs once, and ``_run_graph`` replays them on real tensors
(internal layout) for each batch. The tensors of the last pass stay in ``_pass_values`` until it
is scored, so deferred expressions on the model's symbolic tensors (_symbolic.py: a VAE's
``add_loss(K.mean(kl))``) read them there. Also here: the summary table and ``K.function``
(a sub-network run without gradients). Config and weights files are saving.py's; compile and the
loops training.py's.
"""
import numpy as np

from ...autograd import no_grad
from .._common import as_list, snake_case, to_keras, unpack
from ..config import unique_name
from ..layers.base import InputLayer, KerasTensor, Layer
from . import data_adapter, saving


class Network(Layer):
    """A graph of layers from Input tensors to output tensors (the base of Model)."""
    _internal_layout = True
    _defines_call = False  # a Model subclass with its own call() (step_loops.StepsMixin sets it)

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if "input" in kwargs:
            inputs = kwargs.pop("input")
        if "output" in kwargs:
            outputs = kwargs.pop("output")
        super().__init__(name=name or unique_name(snake_case(type(self).__name__)), **kwargs)
        self._layers = []
        self._nodes = []
        self._model_losses = []  # add_loss on the model: kept, evaluated at every pass
        self._pass_values = None
        self.inputs, self.outputs = [], []
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: give both inputs and outputs")
            self._init_graph(inputs, outputs)

    # ---- graph -----------------------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        self.inputs, self.outputs = as_list(inputs), as_list(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be symbolic tensors (from Input and layer calls), "
                                f"got {type(t).__name__}")
        for t in self.inputs:
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError(f"Model: input {t.name!r} is not the output of an Input layer")
        self._single_output = not isinstance(outputs, (list, tuple))
        input_ids = {id(t) for t in self.inputs}
        nodes, seen = [], set()

        def visit(t, path):
            layer, node_index, _ = t._keras_history
            node = layer._inbound_nodes[node_index]
            if id(node) in seen:
                return
            if isinstance(layer, InputLayer) and id(t) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {t.name!r} at layer "
                                 f"{layer.name!r}: it is not one of the model's inputs")
            if id(node) in path:
                raise ValueError("Model: the layer graph has a cycle")
            for x in node.inbound:
                visit(x, path | {id(node)})
            seen.add(id(node))
            nodes.append(node)

        for t in self.outputs:
            visit(t, frozenset())
        self._nodes = [n for n in nodes if not isinstance(n.layer, InputLayer)]
        layers = [t._keras_history[0] for t in self.inputs]
        for node in self._nodes:
            if all(node.layer is not l for l in layers):
                layers.append(node.layer)
        names = [l.name for l in layers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"The name {sorted(dup)[0]!r} is used {names.count(sorted(dup)[0])} times in the model. "
                             f"All layer names should be unique.")
        self._layers = layers
        self._modules.clear()
        for layer in layers:
            self._modules[layer.name] = layer
        self.built = True

    @property
    def layers(self):
        """The graph's layers; for a subclassed model with its own call, the layers it holds as attributes."""
        if self._defines_call and not self.outputs:
            return self._sublayers()
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            if index >= len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}")

    @property
    def input(self):
        return unpack(self.inputs)

    @property
    def output(self):
        return unpack(self.outputs)

    @property
    def input_shape(self):
        self._require_built()
        return unpack([t.shape for t in self.inputs])

    @property
    def output_shape(self):
        self._require_built()
        return unpack([t.shape for t in self.outputs])

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self.outputs]

    def _require_built(self):
        if not self.built or not (self.outputs or self._defines_call):
            raise ValueError("This model has not yet been built. Build the model first by calling build() or "
                             "calling fit() with some data. Or specify input_shape or batch_input_shape in the "
                             "first layer for automatic build.")

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    def call(self, inputs, training=None):
        return self._run_graph(as_list(inputs), training)

    def _run_graph(self, inputs, training=None):
        """Replays the graph on internal-layout tensors; returns one tensor or a list (as the outputs)."""
        if len(inputs) != len(self.inputs):
            raise ValueError(f"{self.name}: expects {len(self.inputs)} input(s), got {len(inputs)}")
        values = {id(t): x for t, x in zip(self.inputs, inputs)}
        for layer in self.layers:  # add_loss collects this pass' losses only
            layer._added_losses = []
        for node in self._nodes:
            ins = [values[id(t)] for t in node.inbound]
            out = node.layer._run(ins if node.list_input else ins[0], training, node.kwargs)
            for t, o in zip(node.outputs, out if node.list_output else [out]):
                values[id(t)] = o
        self._pass_values = values  # what symbolic losses read (_symbolic.graph_values)
        outs = [values[id(t)] for t in self.outputs]
        return outs[0] if self._single_output else outs

    def add_loss(self, losses, inputs=None):
        """A subclassed model's call: terms for the current pass, as a layer's (Layer.add_loss). Otherwise: loss
        terms for every pass: expressions on the model's symbolic tensors (Keras 2's
        ``vae.add_loss(K.mean(xent_loss + kl_loss))``), callables, or tensors. Non-scalars are averaged."""
        if self._defines_call:
            return super().add_loss(losses, inputs)
        self._model_losses.extend(as_list(losses))

    @property
    def losses(self):
        """The weight penalties and every layer's activity penalties and added losses (last pass)."""
        pen = self._regularization_penalty()
        out = [pen] if pen is not None else []
        if self._defines_call:  # a subclassed model's own add_loss terms and activity penalty of this pass
            out += list(self._activity_penalties) + list(self._added_losses)
        for layer in self._all_layers():
            out += list(layer._activity_penalties) + list(layer._added_losses)
        return out

    def _all_layers(self):
        out, stack = [], list(self.layers)
        while stack:
            layer = stack.pop(0)
            out.append(layer)
            if isinstance(layer, Network):
                stack = layer.layers + stack
        return out

    def _layer_nodes(self, layer):
        """The layer's nodes that belong to this graph (an InputLayer's own node included)."""
        ids = {id(n) for n in self._nodes}
        return [n for n in layer._inbound_nodes if id(n) in ids or isinstance(layer, InputLayer)]

    # ---- summary ---------------------------------------------------------------------------------
    def _sequential_like(self):
        """A chain (one input, one output, each layer feeding the next): summary's short table."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        consumers = {}
        for node in self._nodes:
            if len(node.inbound) > 1:
                return False
            for t in node.inbound:
                consumers[id(t)] = consumers.get(id(t), 0) + 1
        return all(c <= 1 for c in consumers.values())

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints Keras' layer table: name (type), output shape, parameter count, and the totals."""
        self._require_built()
        print_fn = print_fn or print
        sequential_like = self._sequential_like() or not self.outputs
        if sequential_like:
            line_length = line_length or 65
            positions = positions or [.45, .85, 1.]
            header = ["Layer (type)", "Output Shape", "Param #"]
        else:
            line_length = line_length or 98
            positions = positions or [.33, .55, .67, 1.]
            header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]

        def row(fields):
            line = ""
            for i, field in enumerate(fields):
                if i > 0:
                    line = line[:-1] + " "
                line += str(field)
                line = line[:positions[i]]
                line += " " * (positions[i] - len(line))
            print_fn(line)

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        row(header)
        print_fn("=" * line_length)
        layers = self.layers
        for i, layer in enumerate(layers):
            nodes = self._layer_nodes(layer)
            shapes = {tuple(t.shape for t in n.outputs) for n in nodes}
            if not self.outputs:  # a subclassed model: no symbolic pass recorded the shapes (Keras 3 shows '?')
                out_shape = "?"
            elif len(shapes) == 1:
                out_shape = unpack(list(next(iter(shapes))))
            else:
                out_shape = "multiple"
            params = layer.count_params() if layer.built else 0
            name = f"{layer.name} ({type(layer).__name__})"
            if sequential_like:
                row([name, out_shape, params])
            else:
                connections = []
                for n in nodes:
                    for t in n.inbound:
                        src, ni, ti = t._keras_history
                        connections.append(f"{src.name}[{ni}][{ti}]")
                row([name, out_shape, params, connections[0] if connections else ""])
                for extra in connections[1:]:
                    row(["", "", "", extra])
            print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
        trainable = int(sum(int(np.prod(w.shape)) for w in self.trainable_weights))
        non_trainable = int(sum(int(np.prod(w.shape)) for w in self.non_trainable_weights))
        print_fn(f"Total params: {trainable + non_trainable:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {non_trainable:,}")
        print_fn("_" * line_length)

    # ---- config and weights (saving.py) ----------------------------------------------------------
    def get_config(self):
        return saving.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return saving.functional_from_config(cls, config, custom_objects)

    def to_json(self, **kwargs):
        return saving.to_json(self, **kwargs)

    def save_weights(self, filepath, overwrite=True, save_format=None):
        """All weights to a safetensors file (tensors named 'layer/weight', Keras layouts), written
        atomically. overwrite=False and the file exists: asks, as Keras does (FileExistsError when
        there is no terminal to ask). save_format (Keras 2's 'h5' or 'tf') is refused unless it names
        this one format: deepcore writes safetensors only."""
        if save_format not in (None, "safetensors"):
            raise ValueError(f"save_weights: save_format={save_format!r} is not supported; deepcore writes "
                             f"safetensors files only (leave save_format out)")
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Loads weights saved by save_weights or save: by layer order (Keras' default; layer names may differ),
        or by layer name (by_name=True). A file that does not fit the model raises ValueError."""
        saving.load_weights(self, filepath, by_name, skip_mismatch)


# ---- K.function -------------------------------------------------------------------------------------
class _LearningPhase:
    """What K.learning_phase() returns: a placeholder among a K.function's inputs, fed 0 (test
    mode: no dropout) or 1 (training mode)."""

    def __repr__(self):
        return "<keras learning_phase>"


_LEARNING_PHASE = _LearningPhase()


def learning_phase():
    return _LEARNING_PHASE


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """Keras 2's K.function: a callable taking a list of arrays for `inputs` (symbolic tensors of a
    model, and optionally K.learning_phase()) and returning a list of NumPy arrays for `outputs`,
    e.g. a layer's activations: K.function([model.input], [model.layers[2].output])([x])[0]."""
    if updates:
        raise NotImplementedError("K.function(updates=...) is not supported by deepcore.keras")
    return _GraphFunction(inputs, outputs)


class _GraphFunction:
    def __init__(self, inputs, outputs):
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._phase_at = [i for i, t in enumerate(inputs) if t is _LEARNING_PHASE]
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        # Named as a Model is ('model_<n>'), so the numbering of the user's models stays Keras'.
        self._model = Network([t for t in inputs if t is not _LEARNING_PHASE], outputs, name=unique_name("model"))

    def __call__(self, values):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        expected = len(self._model.inputs) + len(self._phase_at)
        if len(values) != expected:
            raise ValueError(f"K.function: expected {expected} input value(s), got {len(values)}")
        training = bool(values.pop(self._phase_at[0])) if self._phase_at else False
        xs = data_adapter.prepare_inputs(self._model, values if len(values) > 1 else values[0])
        with no_grad():
            outs = self._model._run_graph(xs, training)
        outs = outs if isinstance(outs, list) else [outs]
        return [to_keras(o).numpy().copy() for o in outs]
