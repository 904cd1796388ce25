"""The lecture's optimizer race: GD, SGD, momentum, RMSprop, AdaDelta and Adam
from deepcore.optim on a 2-D loss surface with a saddle point.

    f(x, y) = x^2 - y^2 + y^4 / 4

has a saddle at (0, 0) and two minima at (0, +-sqrt(2)) with f = -1. Every
optimizer starts at (2.5, 0.001), almost exactly on the ridge that leads into
the saddle: the gradient's y part is tiny there, so plain gradient descent
rolls into the saddle and waits until the small y grows geometrically, while
the adaptive methods (RMSprop, AdaDelta, Adam) divide by a running gradient
scale and leave along y at once. The noisy-gradient SGD is kicked off the
ridge by its noise. Hyperparameters are in the legend; all use 150 steps.
AdaDelta's first steps are about sqrt(eps) long (its update is
sqrt(u + eps) / sqrt(v + eps) * g with u = 0), so with PyTorch's eps = 1e-6 it
crawls along x on this small problem; eps = 1e-4 and Keras' rho = 0.95 let it
finish the race.

Writes optimizers.png next to this script (Agg backend without a display).
"""
import os
import sys

import numpy as np

import deepcore
from deepcore import optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import headless_pyplot as plt  # noqa: E402  (Agg when there is no display)

START = (2.5, 1e-3)
STEPS = 150
NOISE = 0.5  # standard deviation of the noise added to SGD's gradient


def loss_fn(p):
    x, y = p[0], p[1]
    return x * x - y * y + y ** 4 / 4


def race(name, make_optimizer, noisy=False):
    p = deepcore.tensor(START, dtype=deepcore.float64, requires_grad=True)
    opt = make_optimizer([p])
    path, losses = [p.detach().numpy().copy()], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(p)
        loss.backward()
        if noisy:
            p.grad = p.grad + NOISE * deepcore.randn(2, dtype=deepcore.float64)
        opt.step()
        losses.append(loss.item())
        path.append(p.detach().numpy().copy())
    with deepcore.no_grad():
        final = loss_fn(p).item()
    return name, np.array(path), losses, final


def main():
    deepcore.manual_seed(0)
    runs = [
        race("GD (lr=0.05)", lambda ps: optim.SGD(ps, lr=0.05)),
        race(f"SGD, noisy grad (lr=0.05, σ={NOISE})", lambda ps: optim.SGD(ps, lr=0.05), noisy=True),
        race("Momentum (lr=0.05, γ=0.8)", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8)),
        race("RMSprop (lr=0.02)", lambda ps: optim.RMSprop(ps, lr=0.02)),
        race("AdaDelta (lr=1, ρ=0.95, ε=1e-4)", lambda ps: optim.Adadelta(ps, lr=1.0, rho=0.95, eps=1e-4)),
        race("Adam (lr=0.05)", lambda ps: optim.Adam(ps, lr=0.05)),
    ]

    xs, ys = np.meshgrid(np.linspace(-1.5, 3, 300), np.linspace(-1.2, 2.2, 240))
    surface = xs ** 2 - ys ** 2 + ys ** 4 / 4
    colors = ["black", "tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:red"]

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1.25, 1]})
    ax.contourf(xs, ys, surface, levels=30, cmap="viridis", alpha=0.35)
    ax.contour(xs, ys, surface, levels=30, colors="gray", linewidths=0.4)
    for (name, path, losses, final), color in zip(runs, colors):
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.8, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=color, ms=7, mec="white")
        ax_loss.plot(np.array(losses) + 1.0 + 1e-12, color=color, lw=1.8, label=name)
        print(f"{name:38s} final loss {final:+.6f}  at ({path[-1, 0]:+.4f}, {path[-1, 1]:+.4f})")
    ax.plot(*START, "k*", ms=14, label="start")
    ax.plot(0, 0, "kx", ms=10, mew=2)
    ax.annotate("saddle", (0, 0), (-0.45, -0.25), fontsize=11)
    ax.plot(0, np.sqrt(2), "w*", ms=14, mec="black")
    ax.annotate("minimum", (0, np.sqrt(2)), (-1.2, 1.75), fontsize=11, arrowprops=dict(arrowstyle="->"))
    ax.set(xlabel="x", ylabel="y", title="f(x, y) = x² − y² + y⁴/4: trajectories (150 steps)",
           xlim=(-1.5, 3), ylim=(-1.2, 2.2))
    ax.legend(loc="lower right", fontsize=8.5, framealpha=0.9)
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="step", ylabel="f − f_min (log scale)", title="loss above the minimum f_min = −1")
    ax_loss.grid(True, which="both", alpha=0.3)
    ax_loss.legend(fontsize=8.5)
    fig.tight_layout()

    path = plt.figure_path("optimizers.png")
    fig.savefig(path, dpi=100)
    print(f"saved the figure to {path}")
    if plt.get_backend().lower() != "agg":
        plt.show()


if __name__ == "__main__":
    main()
