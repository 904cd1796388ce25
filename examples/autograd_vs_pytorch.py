"""The lecture's autograd listing run by deepcore and by PyTorch on identical
data and initial weights: the two loss curves must agree step by step.

    python examples/autograd_vs_pytorch.py [--steps 2000] [--lr 1e-5] [--seed 0]

Prints first/last loss of each and the largest relative difference between the
curves, and plots both (a PNG when there is no display). Needs torch.
"""
import argparse

import numpy as np

import deepcore
import headless_pyplot as plt


def train(lib, x, y, w1, w2, steps, learning_rate):
    x, y = lib.tensor(x), lib.tensor(y)
    w1 = lib.tensor(w1, requires_grad=True)
    w2 = lib.tensor(w2, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = (x.mm(w1).tanh().mm(w2) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return np.array(losses)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    import torch

    rng = np.random.default_rng(args.seed)
    N, D_in, H, D_out = 64, 3, 4, 2
    data = [rng.standard_normal(s).astype(np.float32) for s in ((N, D_in), (N, D_out), (D_in, H), (H, D_out))]
    ours = train(deepcore, *data, args.steps, args.lr)
    theirs = train(torch, *data, args.steps, args.lr)
    rel = np.abs(ours - theirs) / np.abs(theirs)
    print(f"deepcore: first {ours[0]:.4f} last {ours[-1]:.4f}")
    print(f"PyTorch:  first {theirs[0]:.4f} last {theirs[-1]:.4f}")
    print(f"largest relative difference over {args.steps} steps: {rel.max():.2e}")
    plt.plot(theirs, label="PyTorch", linewidth=3, alpha=0.5)
    plt.plot(ours, label="deepcore", linestyle="--")
    plt.xlabel("step")
    plt.ylabel("loss")
    plt.legend()
    plt.show()


if __name__ == "__main__":
    main()
