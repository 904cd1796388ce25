"""torch.utils.data.distributed: DistributedSampler, each rank's shard of a dataset."""
import math

from .. import distributed as dist
from ..generator import Generator
from ..ops.random import randperm
from ..ops.shape import cat
from ..tensor import arange
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Rank `rank` of `num_replicas` visits every num_replicas-th position of the (shuffled) dataset.

    With shuffle=True the order is a permutation drawn from ``seed + epoch``: call ``set_epoch(epoch)``
    at the start of each epoch, on every rank, so the ranks agree on it and it changes every epoch.
    The positions are padded by repeating the first ones (drop_last=False) or cut (drop_last=True) so
    that every rank gets the same number of samples, hence the same number of steps.
    num_replicas and rank default to the process group's."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or initialize the process "
                                   "group first (deepcore.distributed.init_process_group)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if int(num_replicas) < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got {num_replicas}")
        if not 0 <= int(rank) < int(num_replicas):
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {int(num_replicas) - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def _index_tensor(self):
        n = len(self.dataset)
        if self.shuffle:
            order = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch))
        else:
            order = arange(n)
        if self.total_size > n:  # pad by repeating from the start (as many times as needed)
            reps = -(-self.total_size // n)
            order = cat([order] * reps)
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self._index_tensor().tolist())

    def __len__(self):
        return self.num_samples
