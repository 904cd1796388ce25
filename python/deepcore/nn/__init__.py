"""deepcore.nn: layers, losses and containers with torch.nn's names, signatures and defaults.

    import deepcore.nn as nn
    import deepcore.nn.functional as F
"""
from .parameter import Parameter
from .modules import (  # noqa: F401
    AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss, Conv2d, ConvTranspose2d, CrossEntropyLoss,
    Dropout, Embedding, Flatten, GRU, GRUCell, HuberLoss, Identity, KLDivLoss, L1Loss, LeakyReLU, Linear,
    LogSoftmax, LSTM, LSTMCell, MaxPool2d, Module, ModuleDict, ModuleList, MSELoss, NLLLoss, ReLU, RNN, RNNBase,
    RNNCell, RNNCellBase, Sequential, Sigmoid, SmoothL1Loss, Softmax, StateDictError, Tanh, Upsample,
)
from .modules import (  # noqa: F401
    CosineSimilarity, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm, LocalResponseNorm,
    MultiheadAttention, PairwiseDistance, RMSNorm, Transformer, TransformerDecoder, TransformerDecoderLayer,
    TransformerEncoder, TransformerEncoderLayer,
)
from .modules import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, CircularPad1d,
    CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, Conv1d, ConvTranspose1d, Fold,
    MaxPool1d, PixelShuffle, PixelUnshuffle, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
    ReplicationPad2d, ReplicationPad3d, Unfold, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)
from .modules import (  # noqa: F401
    AlphaDropout, CELU, Dropout1d, Dropout2d, Dropout3d, ELU, FeatureAlphaDropout, GELU, Hardsigmoid, Hardswish,
    Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SELU, SiLU, Softmin, Softplus, Softsign, Threshold,
)
from . import functional, init, parallel, utils  # noqa: F401
