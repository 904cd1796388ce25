"""Normal(loc, scale): the Gaussian, with a reparameterized sample loc + scale * eps."""
import math
import numbers

from ..autograd import no_grad
from ..ops.random import randn
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class Normal(Distribution):
    """``torch.distributions.Normal(loc, scale, validate_args=None)``: mean loc, standard deviation scale
    (numbers or tensors, broadcast together)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        both_numbers = isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number)
        super().__init__(Size() if both_numbers else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Normal, _instance)
        batch_shape = Size(batch_shape)
        new.loc, new.scale = self.loc.expand(*batch_shape), self.scale.expand(*batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def _noise(self, sample_shape):
        return randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.loc + self._noise(sample_shape) * self.scale

    def rsample(self, sample_shape=()):
        return self.loc + self._noise(sample_shape) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - _LOG_SQRT_2PI

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        raise NotImplementedError("Normal.cdf needs erf, which deepcore does not have yet")

    def icdf(self, value):
        raise NotImplementedError("Normal.icdf needs erfinv, which deepcore does not have yet")
