"""Categorical(probs or logits): one of K categories (an int64 index) per batch entry."""
import math

from ..autograd import no_grad
from ..dtypes import int64
from ..ops.activation import log_softmax
from ..ops.random import rand
from ..tensor import Size, Tensor, arange, full
from . import constraints
from .distribution import Distribution
from .utils import broadcast_shapes, lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """``torch.distributions.Categorical(probs=None, logits=None, validate_args=None)``: the last dim of
    probs (non-negative, normalized here) or logits (normalized here with log-softmax) indexes the K
    categories; the others are the batch. ``sample()`` is the Gumbel-max draw
    ``argmax(logits - log(-log(u)))`` over deepcore's uniform stream."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if not isinstance(probs, Tensor) or probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            if not isinstance(logits, Tensor) or logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = log_softmax(logits, -1)
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = Size(batch_shape)
        shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(*shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(*shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self._param.dtype, device=self._param.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return full(self._extended_shape(), math.nan, dtype=self._param.dtype, device=self._param.device)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            logits = self.logits
            u = rand(*(tuple(shape) + (self._num_events,)), dtype=logits.dtype, device=logits.device)
            # Gumbel-max: argmax of logits + Gumbel noise is distributed as softmax(logits)
            return (logits - (-u.log()).log()).argmax(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long()
        if not self._validate_args and value.numel() and (int(value.min().item()) < 0 or
                                                          int(value.max().item()) >= self._num_events):
            raise IndexError(f"Categorical.log_prob: value out of range for {self._num_events} categories")
        shape = broadcast_shapes(value.shape, self._batch_shape)
        logits = self.logits.expand(*(tuple(shape) + (self._num_events,)))
        # logits[..., value]: one gather (RL scripts call log_prob once per environment step)
        return logits.gather(-1, value.expand(*shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self):
        lowest = -3.4028234663852886e38 if self.logits.dtype.name == "float32" else -1.7976931348623157e308
        logits = self.logits.clamp(min=lowest)  # -inf logits (probability 0) count as 0 * log 0 = 0
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events, dtype=int64, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values
