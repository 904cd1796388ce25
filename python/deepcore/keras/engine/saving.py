"""Model config, weights files, save and load_model.

Files (save / save_weights) are safetensors (deepcore.save, so written atomically): one tensor per
weight, named ``layer/weight``, in Keras' layouts; the architecture (get_config) and the compile
settings are JSON in the header's metadata. Nothing is pickled; corrupt, truncated or foreign files
raise ValueError naming the file. load_model checks the configuration against the weights the file
holds while it builds the layers, before each weight is allocated: a small file cannot make it
allocate a large model.

The functions take the model as their first argument (Network and Model call them from their
methods); classes are found by name through layers/serialization.py, so this module imports no
model class.
"""
import contextlib
import json
import math
import os
import sys

from ... import io as _io
from ...tensor import from_numpy
from .. import _common
from .. import losses as _losses
from .. import optimizers as _optimizers
from .._common import as_list
from ..layers.base import InputLayer, weight_guard
from ..layers.serialization import deserialize_layer

_CONFIG_KEY = "deepcore.keras.model_config"
_TRAINING_KEY = "deepcore.keras.training_config"
_WEIGHTS_KEY = "deepcore.keras.weight_names"
_VERSION = "2.2.4 (deepcore.keras)"


# ---- config ------------------------------------------------------------------------------------------
def functional_config(model):
    """A functional model's get_config: its layers with their inbound nodes, inputs and outputs."""
    model._require_built()
    node_index = {}  # id(node) -> index among the layer's nodes in this model
    for layer in model.layers:
        for i, n in enumerate(model._layer_nodes(layer)):
            node_index[id(n)] = i

    def ref(t):
        layer, ni, ti = t._keras_history
        return [layer.name, node_index[id(layer._inbound_nodes[ni])], ti]

    layer_configs = []
    for layer in model.layers:
        inbound = []
        if not isinstance(layer, InputLayer):
            for n in model._layer_nodes(layer):
                inbound.append([ref(t) + [n.kwargs] for t in n.inbound])
        layer_configs.append({"name": layer.name, "class_name": type(layer).__name__,
                              "config": layer.get_config(), "inbound_nodes": inbound})
    return {"name": model.name, "layers": layer_configs, "input_layers": [ref(t) for t in model.inputs],
            "output_layers": [ref(t) for t in model.outputs]}


def functional_from_config(cls, config, custom_objects=None):
    """The inverse of functional_config: rebuilds the layers, calls them on their inbound nodes, and
    makes `cls(inputs, outputs)`."""
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


def _architecture(model):
    return {"class_name": type(model).__name__, "config": model.get_config(), "keras_version": _VERSION,
            "backend": "deepcore"}


def to_json(model, **kwargs):
    return json.dumps(_architecture(model), **kwargs)


@contextlib.contextmanager
def _custom_objects_in_scope(custom_objects):
    """custom_objects visible to every deserialize (layers, activations, losses, ...) meanwhile."""
    old = dict(_common._custom_scope)
    _common._custom_scope.update(custom_objects or {})
    try:
        yield
    finally:
        _common._custom_scope.clear()
        _common._custom_scope.update(old)


def model_from_config(config, custom_objects=None):
    with _custom_objects_in_scope(custom_objects):
        return deserialize_layer(config, custom_objects)


def model_from_json(json_string, custom_objects=None):
    return model_from_config(json.loads(json_string), custom_objects)


# ---- weights -----------------------------------------------------------------------------------------
def _named_weight_tensors(model):
    """[(layer, [(key, spec, owner)])] for each layer with weights, in model.layers order."""
    out = []
    for layer in model.layers:
        entries = []
        for owner, spec in layer._weight_entries("all"):
            key = f"{layer.name}/{spec.name}" if owner is layer else f"{layer.name}/{owner.name}/{spec.name}"
            entries.append((key, spec, owner))
        if entries:
            out.append((layer, entries))
    return out


def _weights_payload(model):
    tensors, names = {}, []
    for layer, entries in _named_weight_tensors(model):
        keys = []
        for key, spec, owner in entries:
            t = owner._weight(spec).detach()
            tensors[key] = (spec.to_keras(t) if spec.to_keras else t).contiguous()
            keys.append(key)
        names.append([layer.name, keys])
    return tensors, {_WEIGHTS_KEY: json.dumps(names)}


def _may_write(filepath, overwrite):
    """Whether to write `filepath`. overwrite=False and the file exists: Keras asks on the terminal
    ('[WARNING] ... already exists - overwrite? [y/n]', 'n' returns without saving); with no terminal
    to ask (a script, CI), FileExistsError instead of Keras' EOFError or a hang."""
    if overwrite or hasattr(filepath, "write") or not os.path.exists(filepath):
        return True
    if not getattr(sys.stdin, "isatty", lambda: False)():
        raise FileExistsError(f"{os.fspath(filepath)!r} already exists and overwrite=False: pass overwrite=True "
                              f"to replace it")
    answer = input(f"[WARNING] {os.fspath(filepath)} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def save_weights(model, filepath, overwrite=True):
    model._require_built()
    if not _may_write(filepath, overwrite):
        return
    tensors, meta = _weights_payload(model)
    _io.save(tensors, filepath, metadata=meta)


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    model._require_built()
    filepath = filepath if hasattr(filepath, "read") else os.fspath(filepath)
    tensors, meta = _io.read_tensors(filepath, who="load_weights")  # the file is read (and checked) once
    _assign_weights(model, filepath, tensors, meta, by_name, skip_mismatch)


def _saved_layer_list(filepath, meta, who="load_weights"):
    """[[layer name, [weight keys]]] from the file, or None for a plain safetensors file."""
    if _WEIGHTS_KEY not in meta:
        return None
    try:
        saved = json.loads(meta[_WEIGHTS_KEY])
    except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an over-long integer
        raise ValueError(f"{who}: {filepath!r} has a damaged layer list ({e})") from None
    if not isinstance(saved, list) or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], list) and
            all(isinstance(k, str) for k in e[1]) for e in saved):
        raise ValueError(f"{who}: {filepath!r} has a damaged layer list (expected [[layer name, [weight names]], "
                         f"...])")
    return saved


def _assign_weights(model, filepath, tensors, meta, by_name=False, skip_mismatch=False):
    saved = _saved_layer_list(filepath, meta)
    if saved is None:  # a plain safetensors file: group 'layer/weight' keys in file order
        saved, index = [], {}
        for key in tensors:
            layer_name = key.split("/", 1)[0]
            if layer_name not in index:
                index[layer_name] = len(saved)
                saved.append([layer_name, []])
            saved[index[layer_name]][1].append(key)
    mine = _named_weight_tensors(model)
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


# ---- whole models ------------------------------------------------------------------------------------
def _serialize_object(obj):
    """A loss or metric for the file: its name, or {'class_name', 'config'} for an object with options
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True) must come back with them)."""
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return _common.serialize(obj)
    return getattr(obj, "__name__", str(obj))


def _serialize_loss(loss):
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    return _serialize_object(loss)


def _deserialize_loss(spec):
    """The inverse of _serialize_loss: {'class_name', 'config'} is one loss object; any other dict maps
    outputs to losses."""
    if isinstance(spec, dict) and "class_name" in spec:
        return _losses.get(spec)
    if isinstance(spec, dict):
        return {k: _deserialize_loss(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_deserialize_loss(v) for v in spec]
    return spec


def _serialize_metrics(metrics):
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {k: _serialize_metrics(v) for k, v in metrics.items()}
    return [_serialize_object(m) for m in as_list(metrics)]


def save_model(model, filepath, include_optimizer=True, overwrite=True):
    """Architecture + weights (+ the compile settings of a compiled model) in one safetensors file."""
    model._require_built()
    if not _may_write(filepath, overwrite):
        return
    tensors, meta = _weights_payload(model)
    meta[_CONFIG_KEY] = json.dumps(_architecture(model))
    if model._compiled and include_optimizer:
        training = {"optimizer_config": _optimizers.serialize(model.optimizer),
                    "loss": _serialize_loss(model.loss), "metrics": _serialize_metrics(model._metrics_spec),
                    "loss_weights": model.loss_weights}
        meta[_TRAINING_KEY] = json.dumps(training)
    _io.save(tensors, filepath, metadata=meta)


class _WeightBudget:
    """load_model's check of each weight a layer is about to allocate against the file's weights:
    the same shape as the file's tensor of that name, and never more values in all than the file
    holds (weights are assigned one to one after the build, so any excess is an error anyway)."""

    def __init__(self, filepath, shapes):
        self.filepath = filepath
        self.left = sum(math.prod(shape) for shape in shapes.values())
        self.shapes = {}  # 'layer/weight' -> shape; a nested layer's weights are 'outer/layer/weight' on disk
        for key, shape in shapes.items():
            short = "/".join(key.split("/")[-2:])
            self.shapes[short] = None if short in self.shapes else tuple(shape)  # None: ambiguous, not checked

    def __call__(self, layer, name, shape):
        where = f"load_model: {self.filepath!r}: layer {layer.name!r} is configured with a weight {name!r} of shape"
        stored = self.shapes.get(f"{layer.name}/{name}")
        if any(s < 0 for s in shape):
            raise ValueError(f"{where} {shape}, which has a negative size")
        if stored is not None and stored != shape:
            raise ValueError(f"{where} {shape}, but the file stores it with shape {stored}: the configuration does "
                             f"not match the weights")
        n = math.prod(shape)
        if n > self.left:
            raise ValueError(f"{where} {shape} ({n} values), but the file holds only {self.left} more weight "
                             f"values: the configuration does not match the weights")
        self.left -= n


def _json_entry(filepath, meta, key, what):
    try:
        return json.loads(meta[key])
    except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an over-long integer
        raise ValueError(f"load_model: {filepath!r} has a damaged {what} ({e})") from None


def _rebuild(filepath, config, custom_objects, shapes):
    """The model of `config`, each weight checked against `shapes` (the file's) before it is made."""
    token = weight_guard.set(_WeightBudget(filepath, shapes))
    try:
        return model_from_config(config, custom_objects)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as e:
        if str(e).startswith(f"load_model: {filepath!r}"):
            raise
        raise ValueError(f"load_model: {filepath!r}: the model configuration cannot be rebuilt "
                         f"({type(e).__name__}: {e})") from e
    finally:
        weight_guard.reset(token)


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuilds a model saved by model.save: architecture, weights and (compile=True) the compile settings.
    Custom layers, activations, losses and Lambda functions are looked up in custom_objects. The file
    is checked first (see deepcore.load), then the configuration against its weights, as the layers
    are built; a file that does not fit raises ValueError naming it."""
    filepath = filepath if hasattr(filepath, "read") else os.fspath(filepath)
    with _io.open_safetensors(filepath, who="load_model") as st:
        meta = st.metadata
        if _CONFIG_KEY not in meta:
            raise ValueError(f"load_model: {filepath!r} holds no model configuration (is it a weights file from "
                             f"save_weights? Build the model in code and call model.load_weights)")
        # The data first: its size was checked against the file's, and the checksum then vouches for the
        # configuration too (a flipped digit in a learning rate would otherwise load silently).
        tensors = {name: from_numpy(arr) for name, arr in st.read_arrays().items()}
        shapes = st.shapes
    config = _json_entry(filepath, meta, _CONFIG_KEY, "model configuration")
    training = _json_entry(filepath, meta, _TRAINING_KEY, "training configuration") \
        if compile and _TRAINING_KEY in meta else None
    _saved_layer_list(filepath, meta, "load_model")  # damaged: refused before anything is built
    model = _rebuild(filepath, config, custom_objects, shapes)
    _assign_weights(model, filepath, tensors, meta)
    if training is not None:
        try:
            with _custom_objects_in_scope(custom_objects):
                model.compile(optimizer=_optimizers.get(training["optimizer_config"], custom_objects),
                              loss=_deserialize_loss(training["loss"]), metrics=training.get("metrics"),
                              loss_weights=training.get("loss_weights"))
                if model.built:
                    model._compile_outputs()
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
            raise ValueError(f"load_model: {filepath!r}: the training configuration cannot be restored "
                             f"({type(e).__name__}: {e})") from e
    return model
