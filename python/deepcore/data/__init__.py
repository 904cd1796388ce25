"""deepcore.data: datasets and batching in PyTorch's spelling.

    from deepcore.data import DataLoader, TensorDataset, random_split
    from deepcore.data import datasets, transforms   # torchvision's names

``deepcore.utils.data`` is the same module under torch.utils.data's name.
"""
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .dataloader import DataLoader, default_collate
from . import transforms, datasets

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "DataLoader", "default_collate", "transforms",
           "datasets"]
