"""kl_divergence(p, q) and register_kl: KL(p || q) looked up by the most specific registered pair of
distribution types (by method resolution order, as torch.distributions.kl does)."""
import math
import warnings

from ..ops.elementwise import where
from ..ops.loss import binary_cross_entropy_with_logits
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent, _sum_rightmost
from .normal import Normal
from .uniform import Uniform
from .utils import broadcast_all

_KL_REGISTRY = {}  # (type_p, type_q) -> fn(p, q)
_KL_MEMOIZE = {}   # (type(p), type(q)) -> the function chosen for them


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...`` registers KL(p || q)."""
    for name, t in (("type_p", type_p), ("type_q", type_q)):
        if not isinstance(t, type) or not issubclass(t, Distribution):
            raise TypeError(f"Expected {name} to be a Distribution subclass but got {t}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()
        return fn

    return decorator


def _dispatch_kl(type_p, type_q):
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented

    def rank(match, p_first):
        sp, sq = match
        ip, iq = type_p.__mro__.index(sp), type_q.__mro__.index(sq)
        return (ip, iq) if p_first else (iq, ip)

    left = min(matches, key=lambda m: rank(m, True))
    right = min(matches, key=lambda m: rank(m, False))
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl("
                      f"{right[0].__name__}, {left[1].__name__})", RuntimeWarning, stacklevel=3)
    return _KL_REGISTRY[left]


def kl_divergence(p, q):
    """KL(p || q), one value per batch entry."""
    key = (type(p), type(q))
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    fn = _KL_MEMOIZE[key]
    if fn is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    return fn(p, q)


def _softplus(x):
    return binary_cross_entropy_with_logits(x, x * 0, reduction="none")  # log(1 + e^x), stably


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    p_probs, q_probs, p_logits, q_logits = broadcast_all(p.probs, q.probs, p.logits, q.logits)
    t1 = p_probs * (_softplus(-q_logits) - _softplus(-p_logits))
    t1 = where(p_probs == 0, 0.0, where(q_probs == 0, math.inf, t1))
    t2 = (1 - p_probs) * (_softplus(q_logits) - _softplus(p_logits))
    t2 = where(p_probs == 1, 0.0, where(q_probs == 1, math.inf, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    p_probs, q_probs, p_logits, q_logits = broadcast_all(p.probs, q.probs, p.logits, q.logits)
    t = p_probs * (p_logits - q_logits)
    t = where(p_probs == 0, 0.0, where(q_probs == 0, math.inf, t))
    return t.sum(-1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = ((q.low > p.low).long() + (q.high < p.high).long()) > 0
    return where(outside, math.inf, result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different "
                                  "reinterpreted_batch_ndims")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
