"""torch.utils's name for deepcore's helpers: ``deepcore.utils.data`` is ``deepcore.data``
(so ``import deepcore as torch; torch.utils.data.DataLoader(...)`` works)."""
import sys

from .. import data

sys.modules[__name__ + ".data"] = data  # `from deepcore.utils.data import DataLoader` too

__all__ = ["data"]
