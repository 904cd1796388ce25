"""keras.layers: Keras 2's layer names and defaults, on deepcore.nn (see base.py for the layout rule)."""
from .advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
from .base import Input, InputLayer, KerasTensor, Layer, Node  # noqa: F401
from .convolutional import (  # noqa: F401
    AveragePooling2D, AvgPool2D, Conv2D, Conv2DTranspose, Convolution2D, Convolution2DTranspose, Cropping2D,
    Deconvolution2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D, UpSampling2D, ZeroPadding2D,
)
from .convolutional1d import (  # noqa: F401
    AveragePooling1D, AvgPool1D, Conv1D, Convolution1D, Cropping1D, GlobalAveragePooling1D, GlobalAvgPool1D,
    GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D, MaxPooling1D, RepeatVector, UpSampling1D, ZeroPadding1D,
)
from .core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape  # noqa: F401
from .embeddings import Embedding  # noqa: F401
from .merge import (  # noqa: F401
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate, dot, maximum,
    minimum, multiply, subtract,
)
from .normalization import BatchNormalization, LayerNormalization  # noqa: F401
from .recurrent import GRU, LSTM, SimpleRNN  # noqa: F401
from .regularization import (  # noqa: F401
    ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D,
)
from .serialization import deserialize_layer, register  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed  # noqa: F401

register(
    InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda, Conv2D, MaxPooling2D,
    AveragePooling2D, UpSampling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, BatchNormalization, Add, Subtract,
    Multiply, Average, Maximum, Minimum, Concatenate, LeakyReLU, PReLU, ELU, ThresholdedReLU, ReLU, Softmax,
    ZeroPadding2D, Cropping2D, Conv2DTranspose, Embedding, SimpleRNN, LSTM, GRU,
    Bidirectional, TimeDistributed, Conv1D, MaxPooling1D, AveragePooling1D, UpSampling1D, GlobalMaxPooling1D,
    GlobalAveragePooling1D, RepeatVector, GaussianNoise, ZeroPadding1D, Cropping1D, Dot, LayerNormalization,
    GaussianDropout, SpatialDropout1D, SpatialDropout2D, ActivityRegularization)
