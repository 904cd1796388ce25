"""deepcore.distributions: probability distributions in torch.distributions' names::

    from deepcore.distributions import Categorical, Normal, kl_divergence
    m = Categorical(probs)                   # REINFORCE: sample an action, score it
    action = m.sample()
    loss = -m.log_prob(action) * reward
    z = Normal(mu, std).rsample()            # a VAE's reparameterized draw
    kl = kl_divergence(Normal(mu, std), Normal(0.0, 1.0))

Composed of deepcore tensor ops (gradients flow through log_prob, entropy, rsample and
kl_divergence); draws come from deepcore's Philox stream, so ``deepcore.manual_seed`` makes
them reproducible.
"""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "Uniform", "constraints",
           "kl_divergence", "register_kl"]
