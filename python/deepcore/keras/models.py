"""keras.models: Model (functional API), Sequential, load_model, and the training loop.

fit creates deepcore tensors of the whole data set once (rank-4 inputs already in the internal
NCHW layout), gathers each batch with deepcore.index_select, and runs one forward, one backward and
one fused optimizer update per batch; NumPy only shuffles index arrays. A generator or
keras.utils.Sequence instead hands over one batch at a time, converted as it arrives.

Files (save / save_weights) are safetensors (deepcore.save): one tensor per weight, named
``layer/weight``, in Keras' layouts; the architecture (get_config) and the compile settings are JSON
in the header's metadata. Nothing is pickled; corrupt or truncated files raise ValueError.
"""
import json

import numpy as np

from .. import io as _io
from ..autograd import no_grad
from ..ops.index import index_select
from ..ops.shape import cat
from ..tensor import Tensor
from . import callbacks as _callbacks
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from . import _common, _symbolic
from ._common import as_list, as_tensor, to_internal, to_keras, unique_name, unpack
from .layers import _BUILTIN as _BUILTIN_LAYERS
from .layers.base import InputLayer, KerasTensor, Layer
from .utils import Sequence

_CONFIG_KEY = "deepcore.keras.model_config"
_TRAINING_KEY = "deepcore.keras.training_config"
_WEIGHTS_KEY = "deepcore.keras.weight_names"
_VERSION = "2.2.4 (deepcore.keras)"


def _to_array(x, what):
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{what}: expected a numeric array, got an object array")
    return arr


class Model(Layer):
    """``Model(inputs, outputs)``: a graph of layers from Input tensors to output tensors."""
    _internal_layout = True

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if "input" in kwargs:
            inputs = kwargs.pop("input")
        if "output" in kwargs:
            outputs = kwargs.pop("output")
        super().__init__(name=name or unique_name(_common.snake_case(type(self).__name__)), **kwargs)
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._compiled = False
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
        if not self.built or not self.outputs:
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
        """Loss terms for every pass: expressions on the model's symbolic tensors (Keras 2's
        ``vae.add_loss(K.mean(xent_loss + kl_loss))``), callables, or tensors. Non-scalars are averaged."""
        self._model_losses.extend(as_list(losses))

    @property
    def losses(self):
        """The weight penalties and every layer's activity penalties and added losses (last pass)."""
        pen = self._regularization_penalty()
        out = [pen] if pen is not None else []
        for layer in self._all_layers():
            out += list(layer._activity_penalties) + list(layer._added_losses)
        return out

    def _all_layers(self):
        out, stack = [], list(self.layers)
        while stack:
            layer = stack.pop(0)
            out.append(layer)
            if isinstance(layer, Model):
                stack = layer.layers + stack
        return out

    # ---- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, **kwargs):
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if sample_weight_mode is not None or weighted_metrics or target_tensors is not None:
            raise NotImplementedError("compile: sample_weight_mode, weighted_metrics and target_tensors are not "
                                      "supported by deepcore.keras")
        self.optimizer = _optimizers.get(optimizer)
        self.loss, self._metrics_spec, self.loss_weights = loss, metrics, loss_weights
        self._compiled = True
        if self.built and self.outputs:
            self._compile_outputs()

    def _compile_outputs(self):
        names = self.output_names
        n = len(self.outputs)
        loss = self.loss
        if isinstance(loss, dict):
            missing = [k for k in loss if k not in names]
            if missing:
                raise ValueError(f"compile: unknown output(s) {missing} in the loss dictionary; outputs are {names}")
            specs = [loss.get(k) for k in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != n:
                raise ValueError(f"compile: when passing a list as loss, it should have one entry per model output "
                                 f"({n}), got {len(loss)}")
            specs = list(loss)
        else:
            specs = [loss] * n
        # An output whose loss is None is not trained against a target (a model may train on losses its
        # layers add with add_loss alone: compile(optimizer) and fit(x)).
        self._loss_fns = [None if s is None else _losses.get(s) for s in specs]
        self._loss_means = [None if fn is None else _losses.batch_mean(fn) for fn in self._loss_fns]
        self._targets = [i for i, fn in enumerate(self._loss_fns) if fn is not None]
        lw = self.loss_weights
        if lw is None:
            self._loss_weights = [1.0] * n
        elif isinstance(lw, dict):
            self._loss_weights = [float(lw.get(k, 1.0)) for k in names]
        else:
            if len(lw) != n:
                raise ValueError(f"compile: loss_weights should have one entry per output ({n}), got {len(lw)}")
            self._loss_weights = [float(w) for w in lw]
        metrics = self._metrics_spec or []
        per_output = [metrics.get(k, []) for k in names] if isinstance(metrics, dict) else [metrics] * n
        self._metric_fns = []
        for i, ms in enumerate(per_output):
            if self._loss_fns[i] is None and as_list(ms):
                raise ValueError(f"compile: output {names[i]!r} has metrics {as_list(ms)} but no loss; metrics "
                                 f"compare an output with its target, which fit only takes for outputs with a loss")
            resolved = [_metrics.resolve(m, self._loss_fns[i], self.outputs[i].shape) for m in as_list(ms)]
            self._metric_fns.append(resolved)
        self.metrics_names = ["loss"]
        if n > 1:
            self.metrics_names += [f"{names[i]}_loss" for i in self._targets]
        for i, resolved in enumerate(self._metric_fns):
            self.metrics_names += [(f"{names[i]}_{m}" if n > 1 else m) for m, _ in resolved]
        self._sparse_targets = [getattr(fn, "__name__", "") == "sparse_categorical_crossentropy"
                                for fn in self._loss_fns]
        self._activity_layers = [l for l in self._all_layers() if l.activity_regularizer is not None]
        self._layers_flat = self._all_layers()
        # Keras 2 reads `trainable` when compiling: a GAN's discriminator, compiled and then frozen inside
        # the combined model, still trains in its own train_on_batch (compile again to apply a change).
        self._compiled_trainable = list(self.trainable_weights)
        self._has_weight_regularizers = any(spec.regularizer is not None
                                            for _, spec in self._weight_entries("all"))

    def _check_compiled(self):
        if not self._compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")
        if not hasattr(self, "_loss_fns"):
            self._compile_outputs()

    # ---- data ------------------------------------------------------------------------------------
    def _maybe_build_from(self, x):
        if self.built and self.outputs:
            return
        arrays = as_list(x) if not isinstance(x, dict) else list(x.values())
        if len(arrays) != 1:
            raise ValueError("This model has not yet been built and has several inputs")
        self.build((None,) + tuple(_to_array(arrays[0], "x").shape[1:]))

    def _prepare_inputs(self, x, what="input"):
        if isinstance(x, dict):
            missing = [k for k in self.input_names if k not in x]
            if missing:
                raise ValueError(f"No data provided for {missing}. Need data for each key in: {self.input_names}")
            arrays = [x[k] for k in self.input_names]
        else:
            arrays = as_list(x) if isinstance(x, (list, tuple)) and len(self.inputs) > 1 else [x]
        if len(arrays) != len(self.inputs):
            raise ValueError(f"Error when checking model {what}: the list of arrays you are passing to your model is "
                             f"not the size the model expected. Expected to see {len(self.inputs)} array(s), but "
                             f"instead got {len(arrays)}")
        out = []
        for t, a, name in zip(self.inputs, arrays, self.input_names):
            a = _to_array(a, what)
            shape = tuple(a.shape)
            expected = t.shape
            if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
                raise ValueError(f"Error when checking {what}: expected {name} to have shape {expected[1:]} but got "
                                 f"array with shape {shape[1:]}")
            out.append(to_internal(as_tensor(a)))
        return out

    def _prepare_targets(self, y):
        """Tensors for the outputs that have a loss, in order (Keras 2 takes no target for the others;
        with no loss at all, y is None)."""
        if not self._targets:
            if y is not None and not (isinstance(y, (list, tuple, dict)) and len(y) == 0):
                raise ValueError("Error when checking model target: the model has no output with a loss (it trains "
                                 "on the losses its layers add), so fit/evaluate take no targets: pass y=None")
            return []
        names = [self.output_names[i] for i in self._targets]
        if y is None:
            raise ValueError(f"Error when checking model target: targets are required for the output(s) {names}")
        if isinstance(y, dict):
            missing = [k for k in names if k not in y]
            if missing:
                raise ValueError(f"Error when checking model target: no data for the output(s) {missing}")
            arrays = [y[k] for k in names]
        else:
            arrays = as_list(y) if isinstance(y, (list, tuple)) and len(names) > 1 else [y]
        if len(arrays) != len(names):
            raise ValueError(f"Error when checking model target: expected {len(names)} array(s), got "
                             f"{len(arrays)}")
        out = []
        for i, a in zip(self._targets, arrays):
            a = _to_array(a, "target")
            if self._sparse_targets[i]:
                t = a if isinstance(a, Tensor) else Tensor(np.ascontiguousarray(np.asarray(a).astype(np.int64)))
                out.append(t if t.dtype.name == "int64" else t.long())
            else:
                out.append(as_tensor(a))
        return out

    @staticmethod
    def _check_lengths(xs, ys=()):
        lengths = {int(t.shape[0]) for t in list(xs) + list(ys)}
        if len(lengths) > 1:
            raise ValueError(f"All input and target arrays should have the same number of samples; got "
                             f"{sorted(lengths)}")
        return lengths.pop() if lengths else 0

    def _prepare_weights(self, ys, sample_weight=None, class_weight=None):
        """Per-sample weights for each output with a loss (None: unweighted), as Keras 2's
        standardize_weights: sample_weight (one array, or a list/dict per output) wins over
        class_weight ({class: weight}, or {output: {class: weight}}), which weighs each sample by its
        target's class (the argmax of a one-hot row)."""
        names = [self.output_names[i] for i in self._targets]
        if sample_weight is None and class_weight is None:
            return [None] * len(names)

        def per_output(spec, what, nested_dict):
            if spec is None:
                return [None] * len(names)
            if isinstance(spec, dict) and (nested_dict or len(names) > 1) and set(spec) <= set(names):
                return [spec.get(k) for k in names]
            if isinstance(spec, (list, tuple)) and len(names) > 1:
                if len(spec) != len(names):
                    raise ValueError(f"{what}: expected one entry per output with a loss ({names}), got {len(spec)}")
                return list(spec)
            return [spec] * len(names)

        samples = per_output(sample_weight, "sample_weight", False)
        classes = per_output(class_weight, "class_weight",
                             isinstance(class_weight, dict) and all(isinstance(v, dict) for v in class_weight.values()))
        out = []
        for k, (y, sw, cw) in enumerate(zip(ys, samples, classes)):
            n = int(y.shape[0])
            if sw is not None:
                w = np.asarray(sw, dtype=np.float32)
                if w.shape != (n,):
                    raise ValueError(f"sample_weight for output {names[k]!r}: expected shape ({n},) (one weight per "
                                     f"sample), got {w.shape}")
            elif cw is not None:
                if not isinstance(cw, dict):
                    raise TypeError(f"class_weight must be a dict {{class: weight}}, got {type(cw).__name__}")
                labels = y.numpy()  # once per fit: interchange, not the training step
                labels = labels.argmax(-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(n)
                labels = labels.astype(np.int64)
                missing = sorted(set(np.unique(labels).tolist()) - {int(c) for c in cw})
                if missing:
                    raise ValueError(f"class_weight for output {names[k]!r} has no weight for the class(es) "
                                     f"{missing} present in the data")
                table = np.zeros(int(max(max(int(c) for c in cw), labels.max(initial=0))) + 1, dtype=np.float32)
                for c, v in cw.items():
                    table[int(c)] = float(v)
                w = table[labels]
            else:
                out.append(None)
                continue
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"weights for output {names[k]!r} must be finite and non-negative")
            out.append(Tensor(np.ascontiguousarray(w)))
        return out

    # ---- steps -----------------------------------------------------------------------------------
    def _weighted_loss(self, i, y, out, w):
        """Keras 2's weighted objective: mean(loss_i * w_i) / mean(w_i != 0), per-sample losses
        first averaged over any axes after the batch."""
        per = self._loss_fns[i](y, out)
        if per.ndim > 1:
            per = per.mean(dim=tuple(range(1, per.ndim)))
        loss = (per * w).mean()
        nonzero = float((w != 0).float().mean().item())
        return loss * (1.0 / nonzero) if nonzero > 0 else loss

    def _losses_and_metrics(self, outs, ys, with_metrics=True, ws=None):
        """(total loss tensor, [python floats in metrics_names order except the first])."""
        try:
            with _symbolic.graph_values(self._pass_values or {}):  # losses may read the model's symbolic tensors
                return self._score(outs if isinstance(outs, list) else [outs], ys, with_metrics, ws)
        finally:  # the pass' intermediate tensors are not kept past scoring (nested models' neither)
            for model in [self] + [l for l in self._layers_flat if isinstance(l, Model)]:
                model._pass_values = None

    def _score(self, outs, ys, with_metrics, ws):
        per_output, total = [], None
        for k, (i, y) in enumerate(zip(self._targets, ys)):
            w = ws[k] if ws else None
            loss = self._loss_means[i](y, to_keras(outs[i])) if w is None else \
                self._weighted_loss(i, y, to_keras(outs[i]), w)
            per_output.append(loss)
            weighted = loss if self._loss_weights[i] == 1.0 else loss * self._loss_weights[i]
            total = weighted if total is None else total + weighted
        if self._has_weight_regularizers:
            penalty = self._regularization_penalty()
            if penalty is not None:
                total = penalty if total is None else total + penalty
        for layer in self._activity_layers:
            for p in layer._activity_penalties:
                total = p if total is None else total + p
        for layer in self._layers_flat:
            for p in layer._added_losses:
                total = p if total is None else total + p
        for term in self._model_losses:
            p = _symbolic.resolve(term() if callable(term) else term)
            p = as_tensor(p)
            p = p.mean() if p.ndim else p
            total = p if total is None else total + p
        if total is None:
            raise ValueError(f"{self.name}: nothing to minimize: compile(loss=None) and no layer called add_loss")
        values = []
        if len(outs) > 1:
            values += [l.item() for l in per_output]
        if with_metrics:
            with no_grad():
                for i, y in zip(self._targets, ys):
                    if self._metric_fns[i]:
                        o = to_keras(outs[i].detach())
                        values += [float(fn(y, o).mean().item()) for _, fn in self._metric_fns[i]]
        return total, values

    def _bind_optimizer(self):
        self.optimizer._bind(self._compiled_trainable)

    def _train_grads(self, on):
        """During this model's steps only the weights compile saw as trainable take gradients; after them,
        each weight's requires_grad follows its layer's `trainable` again."""
        wanted = {id(w) for w in self._compiled_trainable}
        for layer, spec in self._weight_entries("all"):
            w = layer._weight(spec)
            if spec.trainable:
                w.requires_grad_(id(w) in wanted if on else layer._trainable)

    def _train_batch(self, xs, ys, ws=None):
        outs = self._run_graph(xs)
        total, values = self._losses_and_metrics(outs, ys, ws=ws)
        self.optimizer.zero_grad()
        total.backward()
        self.optimizer.step()
        return [total.item()] + values

    def _test_loop(self, xs, ys, batch_size, progress=None, ws=None):
        n = self._check_lengths(xs, ys)
        return self._evaluate_batches(_array_batches(xs, ys, ws or [None] * len(ys), n, batch_size, None),
                                      progress)

    def _evaluate_batches(self, batches, progress=None):
        """Sample-weighted means of the loss and metrics over (size, xs, ys, ws) batches."""
        sums, seen = None, 0
        self.eval()
        with no_grad():
            for step, (size, bx, by, bw) in enumerate(batches):
                total, values = self._losses_and_metrics(self._run_graph(bx), by, ws=bw)
                row = np.array([total.item()] + values, dtype=np.float64) * size
                sums = row if sums is None else sums + row
                seen += size
                if progress is not None:
                    progress(step + 1, seen)
        if seen == 0:
            raise ValueError("evaluate: no samples given")
        return [float(v) for v in sums / seen]

    # ---- batches from a generator or keras.utils.Sequence ------------------------------------------
    def _prepare_batch(self, item, class_weight=None):
        """A generator's/Sequence's item, (x, y) or (x, y, sample_weight) (or (x,) for a model without
        targets), as (size, xs, ys, ws) tensors."""
        if not isinstance(item, tuple) or not 1 <= len(item) <= 3:
            raise ValueError(f"a generator or Sequence for this model must yield tuples (x, y) or (x, y, "
                             f"sample_weight), got {type(item).__name__}"
                             + (f" of length {len(item)}" if isinstance(item, tuple) else ""))
        x, y, w = (tuple(item) + (None, None))[:3]
        xs, ys = self._prepare_inputs(x), self._prepare_targets(y)
        size = self._check_lengths(xs, ys)
        return size, xs, ys, self._prepare_weights(ys, w, class_weight)

    def _source_batches(self, source, steps, shuffle, class_weight=None, first=None):
        """One epoch of `steps` batches (a Sequence's in a random order if asked)."""
        if isinstance(source, Sequence):
            for k in (np.random.permutation(steps) if shuffle else range(steps)):
                yield self._prepare_batch(source[int(k)], class_weight)
            return
        for step in range(steps):
            if step == 0 and first:
                item = first.pop()
            else:
                try:
                    item = next(source)
                except StopIteration:
                    raise ValueError(f"the generator stopped after {step} batch(es) of an epoch of {steps} "
                                     f"(steps_per_epoch / steps); Keras generators loop forever") from None
            yield self._prepare_batch(item, class_weight)

    def _source_steps(self, source, steps, what):
        if steps is not None:
            steps = int(steps)
            if steps < 1:
                raise ValueError(f"{what} must be a positive number of batches, got {steps}")
            return steps
        if hasattr(source, "__len__"):
            return len(source)
        raise ValueError(f"{what} is required with a generator (it has no length: how many batches make an epoch?)")

    def _build_from_source(self, source):
        """Builds an unbuilt Sequential from the first batch; returns it for a generator (to be used)."""
        if self.built and self.outputs:
            return None
        item = source[0] if isinstance(source, Sequence) else next(source)
        self._maybe_build_from(item[0] if isinstance(item, tuple) else item)
        return None if isinstance(source, Sequence) else [item]

    # ---- public training API -----------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, **kwargs):
        """Arrays, or a generator / keras.utils.Sequence yielding (x, y[, sample_weight]) batches
        (then steps_per_epoch, for a generator, says how many batches make an epoch)."""
        if "nb_epoch" in kwargs:
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if x is None:
            raise ValueError("fit: x is required")
        from_source = _is_batch_source(x)
        first = None
        if from_source:
            if y is not None or sample_weight is not None or validation_split:
                raise ValueError("fit: a generator or Sequence yields (x, y[, sample_weight]) itself: do not pass "
                                 "y, sample_weight or validation_split with it")
            first = self._build_from_source(x)
            steps = self._source_steps(x, steps_per_epoch, "fit: steps_per_epoch")
        elif steps_per_epoch is not None:
            raise ValueError("fit: steps_per_epoch is for generators and Sequences; with arrays, batch_size "
                             "sets the steps")
        else:
            self._maybe_build_from(x)
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"fit: batch_size must be positive, got {batch_size}")
        self._check_compiled()
        val_x = val_y = val_w = train_ws = None
        val_source = validation_data is not None and _is_batch_source(validation_data)
        if val_source:
            val_steps = self._source_steps(validation_data, validation_steps, "fit: validation_steps")
        elif validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data should be a tuple (val_x, val_y) or (val_x, val_y, "
                                 "val_sample_weights), a generator or a Sequence")
            val_x = self._prepare_inputs(validation_data[0])
            val_y = self._prepare_targets(validation_data[1])
            val_w = self._prepare_weights(val_y, validation_data[2] if len(validation_data) == 3 else None)
        elif validation_split and 0.0 < validation_split < 1.0:
            xa = [_to_array(a, "input") for a in (as_list(x) if len(self.inputs) > 1 else [x])]
            ya = [] if y is None else [_to_array(a, "target") for a in (as_list(y) if len(self._targets) > 1 else [y])]
            split_at = int(int(xa[0].shape[0]) * (1.0 - validation_split))
            val_x = self._prepare_inputs(unpack([a[split_at:] for a in xa]) if len(xa) > 1 else xa[0][split_at:])
            val_y = self._prepare_targets(None if not ya else unpack([a[split_at:] for a in ya]) if len(ya) > 1
                                          else ya[0][split_at:])
            x = unpack([a[:split_at] for a in xa]) if len(xa) > 1 else xa[0][:split_at]
            # Weights come from all the samples (Keras 2), then split with them.
            all_ws = self._prepare_weights(self._prepare_targets(y), sample_weight, class_weight)
            train_ws = [None if w is None else w[:split_at] for w in all_ws]
            val_w = [None if w is None else w[split_at:] for w in all_ws]
            y = None if not ya else unpack([a[:split_at] for a in ya]) if len(ya) > 1 else ya[0][:split_at]
        elif validation_split:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        if from_source:
            n = None

            def epoch_batches():
                return self._source_batches(x, steps, shuffle, class_weight, first)
        else:
            xs, ys = self._prepare_inputs(x), self._prepare_targets(y)
            n = self._check_lengths(xs, ys)
            if n == 0:
                raise ValueError("fit: no training samples")
            ws = train_ws or self._prepare_weights(ys, sample_weight, class_weight)
            steps = -(-n // batch_size)

            def epoch_batches():
                return _array_batches(xs, ys, ws, n, batch_size, np.random.permutation(n) if shuffle else None)
        do_validation = val_x is not None or val_source
        if val_x is not None:
            self._check_lengths(val_x, val_y)
        self._bind_optimizer()
        names = list(self.metrics_names)
        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=steps, samples=n,
                                       batch_size=None if from_source else batch_size, do_validation=do_validation,
                                       metrics=names + (["val_" + m for m in names] if do_validation else []))
        self.stop_training = False
        cbks.on_train_begin()
        self._train_grads(True)
        try:
            for epoch in range(initial_epoch, epochs):
                cbks.on_epoch_begin(epoch)
                self.train()
                sums, seen = [0.0] * len(names), 0
                batches = epoch_batches()
                for step in range(steps):
                    size, bx, by, bw = next(batches)
                    cbks.on_train_batch_begin(step, {"batch": step, "size": size})
                    values = self._train_batch(bx, by, bw)
                    logs = {"batch": step, "size": size}
                    logs.update(zip(names, values))
                    for i, v in enumerate(values):
                        sums[i] += v * size
                    seen += size
                    cbks.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                batches.close()
                if isinstance(x, Sequence):
                    x.on_epoch_end()
                epoch_logs = {k: s / max(seen, 1) for k, s in zip(names, sums)}
                if val_source:
                    val = self._evaluate_batches(self._source_batches(validation_data, val_steps, False))
                    epoch_logs.update({"val_" + k: v for k, v in zip(names, val)})
                elif do_validation:
                    val = self._test_loop(val_x, val_y, batch_size, ws=val_w)
                    epoch_logs.update({"val_" + k: v for k, v in zip(names, val)})
                self.eval()
                cbks.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            self.eval()
            self._train_grads(False)
        cbks.on_train_end()
        history = cbks.history
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None):
        """Loss and metrics on arrays, or on `steps` batches of a generator / Sequence."""
        if _is_batch_source(x):
            first = self._build_from_source(x)
            self._check_compiled()
            steps = self._source_steps(x, steps, "evaluate: steps")
            bar = _progbar(steps, verbose) if verbose else None
            result = self._evaluate_batches(self._source_batches(x, steps, False, first=first),
                                            (lambda step, seen: bar.update(step)) if bar is not None else None)
            return result[0] if len(result) == 1 else result
        if steps is not None:
            raise ValueError("evaluate: steps is for generators and Sequences; with arrays, batch_size sets them")
        batch_size = 32 if batch_size is None else int(batch_size)
        self._maybe_build_from(x)
        self._check_compiled()
        xs, ys = self._prepare_inputs(x), self._prepare_targets(y)
        progress = None
        if verbose:
            n = self._check_lengths(xs, ys)
            bar = _progbar(-(-n // batch_size), verbose)
            progress = (lambda step, seen: bar.update(step)) if bar is not None else None
        result = self._test_loop(xs, ys, batch_size, progress, ws=self._prepare_weights(ys, sample_weight))
        return result[0] if len(result) == 1 else result

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """Outputs for arrays, or for `steps` batches of a generator / Sequence (their targets ignored)."""
        if _is_batch_source(x):
            first = self._build_from_source(x)
            n_steps = self._source_steps(x, steps, "predict: steps")
            pending = list(first or [])

            def inputs(k):
                item = x[k] if isinstance(x, Sequence) else (pending.pop() if pending else next(x))
                return self._prepare_inputs(item[0] if isinstance(item, tuple) else item)
        else:
            if steps is not None:
                raise ValueError("predict: steps is for generators and Sequences; with arrays, batch_size sets them")
            batch_size = 32 if batch_size is None else int(batch_size)
            self._maybe_build_from(x)
            xs = self._prepare_inputs(x)
            n = self._check_lengths(xs)
            n_steps = -(-n // batch_size)

            def inputs(k):
                return [t[k * batch_size:(k + 1) * batch_size] for t in xs]
        self.eval()
        chunks = None
        bar = _progbar(n_steps, verbose) if verbose else None
        with no_grad():
            for step in range(n_steps):
                outs = self._run_graph(inputs(step))
                self._pass_values = None  # nothing to score: keep no intermediate tensors
                outs = outs if isinstance(outs, list) else [outs]
                if chunks is None:
                    chunks = [[] for _ in outs]
                for c, o in zip(chunks, outs):
                    c.append(to_keras(o))
                if bar is not None:
                    bar.update(step + 1)
        if chunks is None:
            return [np.zeros((0,) + t.shape[1:], np.float32) for t in self.outputs] if not self._single_output \
                else np.zeros((0,) + tuple(self.outputs[0].shape[1:]), np.float32)
        arrays = [(cat(c, 0) if len(c) > 1 else c[0]).numpy() for c in chunks]
        return arrays[0] if self._single_output else arrays

    # Keras 2's generator spellings (fit/evaluate/predict take generators and Sequences directly).
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """fit on a generator / Sequence; batches are drawn in this thread (max_queue_size, workers and
        use_multiprocessing are accepted and not used)."""
        if not _is_batch_source(generator):
            raise TypeError(f"fit_generator: expected a generator or keras.utils.Sequence, got "
                            f"{type(generator).__name__} (for arrays use fit)")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0):
        return self.evaluate(generator, steps=steps, verbose=verbose)

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0):
        return self.predict(generator, steps=steps, verbose=verbose)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, len(as_list(x)[0]) if not isinstance(x, dict) else 1 << 30))

    def predict_classes(self, x, batch_size=32, verbose=0):
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        return proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None):
        self._maybe_build_from(x)
        self._check_compiled()
        xs, ys = self._prepare_inputs(x), self._prepare_targets(y)
        self._check_lengths(xs, ys)
        self._bind_optimizer()
        self.train()
        self._train_grads(True)
        try:
            values = self._train_batch(xs, ys, self._prepare_weights(ys, sample_weight, class_weight))
        finally:
            self.eval()
            self._train_grads(False)
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None):
        self._maybe_build_from(x)
        self._check_compiled()
        xs, ys = self._prepare_inputs(x), self._prepare_targets(y)
        n = self._check_lengths(xs, ys)
        result = self._test_loop(xs, ys, max(n, 1), ws=self._prepare_weights(ys, sample_weight))
        return result[0] if len(result) == 1 else result

    # ---- summary ---------------------------------------------------------------------------------
    def _sequential_like(self):
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        consumers = {}
        for node in self._nodes:
            if len(node.inbound) > 1:
                return False
            for t in node.inbound:
                consumers[id(t)] = consumers.get(id(t), 0) + 1
        return all(c <= 1 for c in consumers.values())

    def _layer_nodes(self, layer):
        ids = {id(n) for n in self._nodes}
        return [n for n in layer._inbound_nodes if id(n) in ids or isinstance(layer, InputLayer)]

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints Keras' layer table: name (type), output shape, parameter count, and the totals."""
        self._require_built()
        print_fn = print_fn or print
        sequential_like = isinstance(self, Sequential) or self._sequential_like()
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
            print_fn(line.rstrip() if False else line)

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        row(header)
        print_fn("=" * line_length)
        layers = self.layers
        for i, layer in enumerate(layers):
            nodes = self._layer_nodes(layer)
            shapes = {tuple(t.shape for t in n.outputs) for n in nodes}
            if len(shapes) == 1:
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

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        self._require_built()
        node_index = {}  # id(node) -> index among the layer's nodes in this model
        for layer in self.layers:
            for i, n in enumerate(self._layer_nodes(layer)):
                node_index[id(n)] = i

        def ref(t):
            layer, ni, ti = t._keras_history
            return [layer.name, node_index[id(layer._inbound_nodes[ni])], ti]

        layer_configs = []
        for layer in self.layers:
            inbound = []
            if not isinstance(layer, InputLayer):
                for n in self._layer_nodes(layer):
                    inbound.append([ref(t) + [n.kwargs] for t in n.inbound])
            layer_configs.append({"name": layer.name, "class_name": type(layer).__name__,
                                  "config": layer.get_config(), "inbound_nodes": inbound})
        return {"name": self.name, "layers": layer_configs, "input_layers": [ref(t) for t in self.inputs],
                "output_layers": [ref(t) for t in self.outputs]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers, outputs_of = {}, {}
        pending = []
        for lc in config["layers"]:
            layer = deserialize_layer(lc, custom_objects)
            layers[lc["name"]] = layer
            if isinstance(layer, InputLayer):
                outputs_of[lc["name"]] = [layer._inbound_nodes[0].outputs]
            else:
                outputs_of[lc["name"]] = []
                pending.append((layer, list(lc.get("inbound_nodes", []))))
        while any(nodes for _, nodes in pending):
            progressed = False
            for layer, nodes in pending:
                while nodes:
                    data = nodes[0]
                    try:
                        ins = [outputs_of[name][ni][ti] for name, ni, ti, *_ in data]
                    except (IndexError, KeyError):
                        break
                    kwargs = data[0][3] if data and len(data[0]) > 3 else {}
                    out = layer(ins if len(ins) > 1 else ins[0], **(kwargs or {}))
                    outputs_of[layer.name].append(as_list(out))
                    nodes.pop(0)
                    progressed = True
            if not progressed:
                raise ValueError("model config: the layer graph cannot be rebuilt (an inbound node refers to a layer "
                                 "or node that never appears)")

        def pick(refs):
            return [outputs_of[name][ni][ti] for name, ni, ti in refs]
        ins, outs = pick(config["input_layers"]), pick(config["output_layers"])
        return cls(inputs=ins if len(ins) > 1 else ins[0], outputs=outs if len(outs) > 1 else outs[0],
                   name=config.get("name"))

    def to_json(self, **kwargs):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config(),
                           "keras_version": _VERSION, "backend": "deepcore"}, **kwargs)

    # ---- weights and files -----------------------------------------------------------------------
    def _named_weight_tensors(self):
        """[(layer, [(key, spec, owner)])] for each layer with weights, in model.layers order."""
        out = []
        for layer in self.layers:
            entries = []
            for owner, spec in layer._weight_entries("all"):
                key = f"{layer.name}/{spec.name}" if owner is layer else f"{layer.name}/{owner.name}/{spec.name}"
                entries.append((key, spec, owner))
            if entries:
                out.append((layer, entries))
        return out

    def _weights_payload(self):
        tensors, names = {}, []
        for layer, entries in self._named_weight_tensors():
            keys = []
            for key, spec, owner in entries:
                t = owner._weight(spec).detach()
                tensors[key] = (spec.to_keras(t) if spec.to_keras else t).contiguous()
                keys.append(key)
            names.append([layer.name, keys])
        return tensors, {_WEIGHTS_KEY: json.dumps(names)}

    def save_weights(self, filepath, overwrite=True, save_format=None):
        """All weights to a safetensors file (tensors named 'layer/weight', Keras layouts)."""
        self._require_built()
        tensors, meta = self._weights_payload()
        _io.save(tensors, filepath, metadata=meta)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Loads weights saved by save_weights or save: by layer order (Keras' default; layer names may differ),
        or by layer name (by_name=True). A file that does not fit the model raises ValueError."""
        self._require_built()
        tensors = _io.load(filepath)
        meta = _io.load_metadata(filepath)
        self._assign_weights(filepath, tensors, meta, by_name, skip_mismatch)

    def _assign_weights(self, filepath, tensors, meta, by_name=False, skip_mismatch=False):
        try:
            saved = json.loads(meta[_WEIGHTS_KEY]) if _WEIGHTS_KEY in meta else None
        except json.JSONDecodeError as e:
            raise ValueError(f"load_weights: {filepath!r} has a damaged layer list ({e})") from None
        if saved is None:  # a plain safetensors file: group 'layer/weight' keys in file order
            saved, index = [], {}
            for key in tensors:
                layer_name = key.split("/", 1)[0]
                if layer_name not in index:
                    index[layer_name] = len(saved)
                    saved.append([layer_name, []])
                saved[index[layer_name]][1].append(key)
        mine = self._named_weight_tensors()
        if by_name:
            by = {name: keys for name, keys in saved}
            pairs = [(layer, entries, by[layer.name]) for layer, entries in mine if layer.name in by]
        else:
            if len(saved) != len(mine):
                raise ValueError(f"You are trying to load a weight file containing {len(saved)} layers into a model "
                                 f"with {len(mine)} layers ({filepath!r}).")
            pairs = [(layer, entries, keys) for (layer, entries), (_, keys) in zip(mine, saved)]
        for layer, entries, keys in pairs:
            if len(keys) != len(entries):
                if skip_mismatch:
                    continue
                raise ValueError(f"Layer {layer.name!r} expects {len(entries)} weights, but the saved weights have "
                                 f"{len(keys)} elements ({filepath!r}).")
            missing = [k for k in keys if k not in tensors]
            if missing:
                raise ValueError(f"load_weights: {filepath!r} lists weights {missing} that it does not contain")
            try:
                layer.set_weights([tensors[k] for k in keys])
            except ValueError:
                if not skip_mismatch:
                    raise

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Architecture + weights (+ compile settings) in one safetensors file; load with load_model."""
        self._require_built()
        tensors, meta = self._weights_payload()
        meta[_CONFIG_KEY] = json.dumps({"class_name": type(self).__name__, "config": self.get_config(),
                                        "keras_version": _VERSION, "backend": "deepcore"})
        if self._compiled and include_optimizer:
            training = {"optimizer_config": _optimizers.serialize(self.optimizer),
                        "loss": _serialize_loss(self.loss), "metrics": _serialize_metrics(self._metrics_spec),
                        "loss_weights": self.loss_weights}
            meta[_TRAINING_KEY] = json.dumps(training)
        _io.save(tensors, filepath, metadata=meta)


def _array_batches(xs, ys, ws, n, batch_size, order):
    """(size, xs, ys, ws) batches of in-memory tensors; gathered by `order` (shuffling) when given."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if order is None:
            yield (stop - start, [t[start:stop] for t in xs], [t[start:stop] for t in ys],
                   [None if w is None else w[start:stop] for w in ws])
        else:
            index = Tensor(np.ascontiguousarray(order[start:stop]))
            yield (stop - start, [index_select(t, 0, index) for t in xs], [index_select(t, 0, index) for t in ys],
                   [None if w is None else index_select(w, 0, index) for w in ws])


def _is_batch_source(x):
    """A keras.utils.Sequence or an iterator/generator of batches (not an array, list or dict of arrays)."""
    return isinstance(x, Sequence) or (hasattr(x, "__next__") and not isinstance(x, (np.ndarray, Tensor)))


def _serialize_loss(loss):
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    return loss if loss is None or isinstance(loss, str) else getattr(loss, "__name__", str(loss))


def _serialize_metrics(metrics):
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {k: _serialize_metrics(v) for k, v in metrics.items()}
    return [m if isinstance(m, str) else getattr(m, "__name__", str(m)) for m in as_list(metrics)]


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(...), ...])`` or ``model.add(layer)``."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or unique_name("sequential"))
        self._stack = []
        self._stack_outputs = []
        object.__setattr__(self, "_input_layer", None)  # not a submodule: _set_graph registers
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer!r}")
        if any(l is layer for l in self._stack):
            raise ValueError(f"Sequential: layer {layer.name!r} is already in the model")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential: an InputLayer can only be the first layer")
            object.__setattr__(self, "_input_layer", layer)
            self._set_graph()
            return
        self._stack.append(layer)
        if self._input_layer is None and len(self._stack) == 1:
            shape = layer._batch_input_shape
            if shape is None and isinstance(layer, Model) and layer.outputs:
                shape = layer.inputs[0].shape
            if shape is not None:
                object.__setattr__(self, "_input_layer", InputLayer(batch_input_shape=shape, name=layer.name + "_input"))
        if self._input_layer is not None:
            prev = self._stack_outputs[-1] if self._stack_outputs else self._input_layer._inbound_nodes[0].outputs[0]
            out = layer(prev)
            if isinstance(out, list):
                raise ValueError("All layers in a Sequential model should have a single output tensor.")
            self._stack_outputs.append(out)
            self._set_graph()
        else:
            self._register()

    def pop(self):
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        if self._stack_outputs:
            self._stack_outputs.pop()
        self._set_graph()

    def _register(self):
        self._modules.clear()
        for layer in self._stack:
            self._modules[layer.name] = layer

    def _set_graph(self):
        if self._input_layer is None or not self._stack_outputs:
            self._register()
            self.inputs, self.outputs, self._nodes = [], [], []
            self.built = False
            return
        self._init_graph(self._input_layer._inbound_nodes[0].outputs[0], self._stack_outputs[-1])
        self._layers = [self._input_layer] + self._stack
        self._register()
        if self._compiled and hasattr(self, "_loss_fns"):
            del self._loss_fns

    def build(self, input_shape=None):
        if self.built and self.outputs:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self._input_layer is None:
            first = self._stack[0].name if self._stack else "sequential"
            object.__setattr__(self, "_input_layer", InputLayer(batch_input_shape=tuple(input_shape),
                                                                name=first + "_input"))
        x = self._input_layer._inbound_nodes[0].outputs[0]
        self._stack_outputs = []
        for layer in self._stack:
            x = layer(x)
            self._stack_outputs.append(x)
        self._set_graph()

    def _layer_nodes(self, layer):
        ids = {id(n) for n in self._nodes}
        return [n for n in layer._inbound_nodes if id(n) in ids]

    def get_config(self):
        configs = []
        for i, layer in enumerate(self._stack):
            c = layer.get_config()
            if i == 0 and self._input_layer is not None and not isinstance(layer, Model):
                c = dict(c, batch_input_shape=list(self._input_layer._batch_input_shape))
            configs.append({"class_name": type(layer).__name__, "config": c})
        return {"name": self.name, "layers": configs}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if isinstance(config, list):  # Keras < 2.2.3 stored just the list
            config = {"layers": config}
        model = cls(name=config.get("name"))
        for lc in config["layers"]:
            model.add(deserialize_layer(lc, custom_objects))
        return model


def _progbar(target, verbose):
    Progbar = getattr(__import__("deepcore.keras.utils", fromlist=["Progbar"]), "Progbar", None)
    return Progbar(target=target, verbose=verbose) if Progbar is not None else None


def deserialize_layer(config, custom_objects=None):
    """A layer (or model) from {'class_name', 'config'}; custom classes come from custom_objects."""
    name = config["class_name"]
    custom_objects = dict(_common._custom_scope, **(custom_objects or {}))
    cls = custom_objects.get(name) or _BUILTIN_LAYERS.get(name) or {"Sequential": Sequential, "Model": Model}.get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: {name}. A custom layer must be passed in custom_objects={{'{name}': "
                         f"{name}}}")
    from_config = cls.from_config
    import inspect
    if "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(config["config"], custom_objects=custom_objects)
    return from_config(config["config"])


def model_from_config(config, custom_objects=None):
    old = dict(_common._custom_scope)
    _common._custom_scope.update(custom_objects or {})
    try:
        return deserialize_layer(config, custom_objects)
    finally:
        _common._custom_scope.clear()
        _common._custom_scope.update(old)


def model_from_json(json_string, custom_objects=None):
    return model_from_config(json.loads(json_string), custom_objects)


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuilds a model saved by model.save: architecture, weights and (compile=True) the compile settings.
    Custom layers, activations, losses and Lambda functions are looked up in custom_objects."""
    meta = _io.load_metadata(filepath)
    if _CONFIG_KEY not in meta:
        raise ValueError(f"load_model: {filepath!r} holds no model configuration (is it a weights file from "
                         f"save_weights? Build the model in code and call model.load_weights)")
    tensors = _io.load(filepath)  # validates the whole file: a truncated or corrupt one raises here
    try:
        config = json.loads(meta[_CONFIG_KEY])
    except json.JSONDecodeError as e:
        raise ValueError(f"load_model: {filepath!r} has a damaged model configuration ({e})") from None
    model = model_from_config(config, custom_objects)
    model._assign_weights(filepath, tensors, meta)
    if compile and _TRAINING_KEY in meta:
        training = json.loads(meta[_TRAINING_KEY])
        old = dict(_common._custom_scope)
        _common._custom_scope.update(custom_objects or {})
        try:
            model.compile(optimizer=_optimizers.get(training["optimizer_config"], custom_objects),
                          loss=training["loss"], metrics=training.get("metrics"),
                          loss_weights=training.get("loss_weights"))
            if model.built:
                model._compile_outputs()
        finally:
            _common._custom_scope.clear()
            _common._custom_scope.update(old)
    return model
