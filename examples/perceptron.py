"""The lecture's perceptron slides, on deepcore.

1. A single-layer perceptron trained by its rule, w <- w + eta (y - y_hat) x,
   on a linearly separable set: it converges (no mistakes left).
2. The same perceptron on XOR: no line separates XOR, so it never converges.
3. A multi-layer perceptron (2-4-1, tanh, trained by back-propagation with
   SGD + momentum) solves XOR.

Saves perceptron.png (the three decision regions) next to this script and
prints what happened.

    python examples/perceptron.py [--epochs 50] [--seed 0]
"""
import argparse

import numpy as np

import deepcore as dc
import deepcore.nn as nn
import deepcore.optim as optim


def step(v):
    """The perceptron's activation: 1 where v >= 0, else 0."""
    return (v >= 0).float()


def train_perceptron(x, y, epochs, eta=0.1):
    """Rosenblatt's rule, one sample at a time; returns weights, bias and mistakes per epoch."""
    w = dc.zeros(x.shape[1])
    b = dc.zeros(1)
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for i in range(x.shape[0]):
            y_hat = step((x[i] * w).sum() + b)
            error = y[i] - y_hat          # -1, 0 or +1
            w += eta * error * x[i]
            b += eta * error
            wrong += int(error.abs().item())
        mistakes.append(wrong)
        if wrong == 0:
            break
    return w, b, mistakes


def train_mlp(x, y, epochs=2000):
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.BCELoss()
    for epoch in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(x), y.reshape(-1, 1))
        loss.backward()
        opt.step()
    return model, loss.item()


def separable_set(rng, n=60):
    """Two clusters either side of the line x1 + x2 = 1 (e.g. 'size' and 'domestication')."""
    pts = rng.uniform(0, 1, size=(4 * n, 2))
    margin = pts.sum(1) - 1.0
    keep = np.abs(margin) > 0.15
    pts, labels = pts[keep][:n], (margin[keep][:n] > 0).astype(np.float32)
    return dc.tensor(pts, dtype=dc.float32), dc.tensor(labels)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=50, help="perceptron epochs (passes over the data)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    dc.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    xs, ys = separable_set(rng)
    w_s, b_s, mistakes_s = train_perceptron(xs, ys, args.epochs)
    print(f"separable set: {'converged' if mistakes_s[-1] == 0 else 'did NOT converge'} after "
          f"{len(mistakes_s)} epochs (mistakes per epoch: {mistakes_s})")

    x_xor = dc.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    y_xor = dc.tensor([0., 1., 1., 0.])
    w_x, b_x, mistakes_x = train_perceptron(x_xor, y_xor, args.epochs)
    print(f"XOR, single-layer perceptron: {'converged' if mistakes_x[-1] == 0 else 'cannot converge'} "
          f"({mistakes_x[-1]} of 4 still wrong after {len(mistakes_x)} epochs)")

    model, loss = train_mlp(x_xor, y_xor)
    with dc.no_grad():
        pred = (model(x_xor).reshape(-1) > 0.5).float()
    solved = int((pred == y_xor).sum().item()) == 4
    print(f"XOR, MLP 2-4-1: {'solved' if solved else 'not solved'} (loss {loss:.4f}, predictions "
          f"{pred.tolist()})")
    plot(xs, ys, w_s, b_s, x_xor, y_xor, w_x, b_x, model)


def plot(xs, ys, w_s, b_s, x_xor, y_xor, w_x, b_x, model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.stack(np.meshgrid(np.linspace(-0.25, 1.25, 200), np.linspace(-0.25, 1.25, 200)), -1).reshape(-1, 2)
    g = dc.tensor(grid, dtype=dc.float32)
    with dc.no_grad():
        regions = [step(g @ w_s + b_s), step(g @ w_x + b_x), (model(g).reshape(-1) > 0.5).float()]
    panels = [("perceptron, separable: converges", xs, ys, regions[0]),
              ("perceptron, XOR: cannot converge", x_xor, y_xor, regions[1]),
              ("MLP 2-4-1, XOR: solved", x_xor, y_xor, regions[2])]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, (title, x, y, region) in zip(axes, panels):
        ax.contourf(grid[:, 0].reshape(200, 200), grid[:, 1].reshape(200, 200), region.numpy().reshape(200, 200),
                    levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
        xn, yn = x.numpy(), y.numpy()
        ax.scatter(xn[yn == 0, 0], xn[yn == 0, 1], c="#c0392b", marker="o", edgecolors="k", label="class 0")
        ax.scatter(xn[yn == 1, 0], xn[yn == 1, 1], c="#2c7fb8", marker="s", edgecolors="k", label="class 1")
        ax.set_title(title)
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(-0.25, 1.25)
        ax.set_aspect("equal")
    axes[0].legend(loc="upper right")
    fig.tight_layout()
    from headless_pyplot import figure_path
    path = figure_path("perceptron.png")
    fig.savefig(path, dpi=90)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
