"""``deepcore.utils.data`` is ``deepcore.data``, so ``torch.utils.data.DataLoader``
in the lecture's listings works with ``import deepcore as torch``."""
from .. import data  # noqa: F401
