"""Embedding: integer indices -> rows of a trainable table (Keras 2 names and defaults), on
deepcore.nn.functional.embedding."""
from ...nn import functional as F
from .. import constraints, initializers, regularizers
from .._common import serialize
from .base import Layer


class Embedding(Layer):
    """(batch, ...) indices in [0, input_dim) -> (batch, ..., output_dim); table ``embeddings``
    (input_dim, output_dim), initialized uniform(-0.05, 0.05). Indices may arrive as floats (a
    Model feeds float32 arrays): they are cast to integers, as Keras casts them. ``mask_zero``
    (masking) is not supported."""
    _internal_layout = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None,
                 **kwargs):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = tuple(input_length) if isinstance(input_length, (list, tuple)) else (input_length,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive, got {input_dim}, {output_dim}")
        if mask_zero:
            raise NotImplementedError("Embedding(mask_zero=True): masking is not supported by deepcore.keras")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero, self.input_length = False, input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        indices = inputs if inputs.dtype.name == "int64" else inputs.long()
        return F.embedding(indices, self.embeddings)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return dict(super().get_config(), input_dim=self.input_dim, output_dim=self.output_dim,
                    embeddings_initializer=serialize(self.embeddings_initializer),
                    embeddings_regularizer=serialize(self.embeddings_regularizer),
                    embeddings_constraint=serialize(self.embeddings_constraint), mask_zero=False,
                    input_length=self.input_length)
