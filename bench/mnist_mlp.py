"""Epoch time of the lecture's PyTorch MNIST MLP listing: deepcore vs PyTorch,
same model, same data (real MNIST), same batch size and optimizer, same threads.

    python bench/mnist_mlp.py [--epochs 2] [--threads 2]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import cpu_name  # noqa: E402


def run(lib, x_train, y_train, x_test, y_test, epochs, batch_size=128):
    nn, F, optim = lib.nn, lib.nn.functional, lib.optim

    class Net(nn.Module):  # the listing's model (with its two slide bugs fixed)
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(28 * 28, 512)
            self.fc1_drop = nn.Dropout(0.2)
            self.fc2 = nn.Linear(512, 512)
            self.fc2_drop = nn.Dropout(0.2)
            self.fc3 = nn.Linear(512, 10)

        def forward(self, x):
            x = x.view(-1, 28 * 28)
            x = self.fc1_drop(F.relu(self.fc1(x)))
            x = self.fc2_drop(F.relu(self.fc2(x)))
            return F.log_softmax(self.fc3(x), dim=1)

    lib.manual_seed(1)
    model = Net()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x_train, y_train), batch_size=batch_size,
                                       shuffle=True)
    times, accs = [], []
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for data, target in loader:
            opt.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        model.eval()
        with lib.no_grad():
            pred = model(x_test).argmax(1)
            accs.append(float((pred == y_test).sum().item()) / len(y_test))
    return times, accs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    import deepcore
    from deepcore.data.datasets import mnist_arrays

    (xtr, ytr), (xte, yte) = mnist_arrays(True), mnist_arrays(False)
    norm = lambda x: ((x.astype(np.float32) / 255.0 - 0.1307) / 0.3081).reshape(-1, 1, 28, 28)  # noqa: E731
    xtr, xte = norm(xtr), norm(xte)
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    deepcore.set_num_threads(args.threads)
    print(f"CPU: {cpu_name()} | threads: {args.threads} | MNIST MLP 784-512-512-10, batch 128, SGD(0.01, 0.5)")
    results = {"deepcore": run(deepcore, *(deepcore.from_numpy(a) for a in (xtr, ytr, xte, yte)), args.epochs)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        results["torch"] = run(torch, *(torch.from_numpy(a) for a in (xtr, ytr, xte, yte)), args.epochs)
    except ImportError:
        print("torch not installed: deepcore only")
    for name, (times, accs) in results.items():
        print(f"{name:9s} epoch seconds: {', '.join(f'{t:.2f}' for t in times)} | test accuracy: "
              f"{', '.join(f'{100 * a:.2f}%' for a in accs)}")
    if "torch" in results:
        ratio = np.median(results["torch"][0]) / np.median(results["deepcore"][0])
        print(f"deepcore epoch is {ratio:.2f}x PyTorch's speed (median epoch time ratio, > 1 = deepcore faster)")


if __name__ == "__main__":
    main()
