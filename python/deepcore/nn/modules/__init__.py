from .module import Module, StateDictError
from .container import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .conv import Conv2d, ConvTranspose2d
from .pooling import AvgPool2d, MaxPool2d, Upsample
from .activation import Dropout, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
