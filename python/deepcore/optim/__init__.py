"""deepcore.optim: optimizers whose update is one fused native call per param
group (csrc/cpu/optim.cpp), following PyTorch's formulas and defaults; Adamax,
NAdam, RAdam and LBFGS are composed of tensor ops (ComposedOptimizer); and
learning-rate schedulers. Conventions (lecture vs PyTorch vs Keras): docs/optimizers.md.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "LBFGS", "lr_scheduler"]
