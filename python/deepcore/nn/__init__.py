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
from . import functional, init, utils  # noqa: F401
