"""Sequential: a Model whose graph is a stack of layers, each called on the previous one's output."""
from ..config import unique_name
from ..layers.base import InputLayer, KerasTensor, Layer
from ..layers.serialization import deserialize_layer, register
from .training import Model


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

    def _sequential_like(self):
        return True

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


register(Sequential)
