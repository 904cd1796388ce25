"""deepcore.data: datasets and batching in PyTorch's spelling.

    from deepcore.data import DataLoader, TensorDataset, random_split
    from deepcore.data import datasets, transforms   # torchvision's names

``deepcore.utils.data`` is the same module under torch.utils.data's name.
"""
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .collate import default_collate, default_convert
from ._worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from .distributed import DistributedSampler
from . import distributed  # noqa: F401  (torch.utils.data.distributed)
from . import transforms, datasets

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "Subset", "ConcatDataset", "ChainDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DataLoader", "DistributedSampler", "default_collate", "default_convert", "get_worker_info", "WorkerInfo", "transforms",
           "datasets"]
