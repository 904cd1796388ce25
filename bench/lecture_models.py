"""One training epoch of the lecture's Keras models (MLP: RMSprop, CNN:
Adadelta; batch 128, real MNIST) written with deepcore.nn and with torch.nn:
the same layers, optimizer settings and data, the same thread count. `lstm`:
the classic recurrent MNIST model (each image read as 28 steps of 28 pixels by
an LSTM(128), then Linear(128, 10); RMSprop), for the lecture's RNN part.

    python bench/lecture_models.py [--model mlp|cnn|lstm|both|all] [--threads 2] [--steps N]

Prints seconds per epoch (or per --steps steps) for each library and the ratio.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import cpu_name  # noqa: E402


class RowLSTM:
    """(N, 1, 28, 28) images -> LSTM over the 28 rows -> Linear on the last hidden state."""

    def __init__(self, nn):
        self.lstm, self.fc = nn.LSTM(28, 128, batch_first=True), nn.Linear(128, 10)

    def __call__(self, x):
        out, _ = self.lstm(x.reshape(x.shape[0], 28, 28))
        return self.fc(out[:, -1])

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.fc.parameters())


def build(lib, kind):
    nn = lib.nn
    if kind == "lstm":
        model = RowLSTM(nn)
        opt = lib.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    elif kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 512),
                              nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
        opt = lib.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(128, 10))
        opt = lib.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    return model, opt


def epoch(lib, kind, x, y, steps, batch=128):
    lib.manual_seed(0)
    model, opt = build(lib, kind)
    F = lib.nn.functional
    order = np.random.default_rng(0).permutation(len(y))
    n_steps = min(steps or len(y) // batch + 1, (len(y) + batch - 1) // batch)
    t0 = time.perf_counter()
    for i in range(n_steps):
        idx = lib.from_numpy(np.ascontiguousarray(order[i * batch:(i + 1) * batch]))
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, n_steps, loss.item()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["mlp", "cnn", "lstm", "both", "all"], default="both")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=0, help="steps to time (default: one epoch)")
    args = p.parse_args()
    import deepcore
    from deepcore.data.datasets import mnist_arrays
    import torch

    xtr, ytr = mnist_arrays(True)
    x = (xtr.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = ytr.astype(np.int64)
    deepcore.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_name()} | threads: {args.threads} | deepcore {deepcore.backends.cpu.capability} | "
          f"torch {torch.__version__}")
    kinds = {"both": ["mlp", "cnn"], "all": ["mlp", "cnn", "lstm"]}.get(args.model, [args.model])
    for kind in kinds:
        t_dc, n, l_dc = epoch(deepcore, kind, deepcore.from_numpy(x), deepcore.from_numpy(y), args.steps)
        t_th, _, l_th = epoch(torch, kind, torch.from_numpy(x), torch.from_numpy(y), args.steps)
        print(f"{kind}: {n} steps | deepcore {t_dc:.2f} s ({1e3 * t_dc / n:.1f} ms/step, last loss {l_dc:.3f}) | "
              f"torch {t_th:.2f} s ({1e3 * t_th / n:.1f} ms/step, last loss {l_th:.3f}) | "
              f"deepcore is {t_th / t_dc:.2f}x torch's speed")


if __name__ == "__main__":
    main()
