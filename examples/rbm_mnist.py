"""A Bernoulli restricted Boltzmann machine on binarized MNIST (the lecture's RBM slides at full
size), computed with deepcore tensors: 784 visible units (pixels above 127 are on), 256 hidden
units, trained by contrastive divergence CD-k (Hinton 2002) or, with --pcd, persistent CD (Tieleman
2008: the negative phase's Gibbs chains carry over from one minibatch to the next).

Per epoch it prints the reconstruction error (squared error between an image and its one-step
mean-field reconstruction, per image and per pixel) and the pseudo-likelihood, estimated as
scikit-learn's BernoulliRBM.score_samples does: for each image one random pixel i is flipped and
784 * log sigmoid(F(v flipped) - F(v)) is averaged (F the free energy). Saves the learned filters
(rbm_mnist_filters.png), test digits and their reconstructions (rbm_mnist_reconstructions.png) and
Gibbs chains started from noise (rbm_mnist_samples.png).

    python examples/rbm_mnist.py [--epochs 10] [--hidden 256] [--k 1] [--pcd] [--lr 0.05]

CD-1 (lr 0.05) reconstructs best but its Gibbs chains from noise give blurred, mixed strokes; PCD-1
(--pcd --lr 0.01, the chains' slow mixing needs a smaller step) reconstructs less well and samples
digits: docs/rl_rbm_gan.md has both runs.
"""
import argparse
import math
import time

import numpy as np

import deepcore as dc
import deepcore.nn.functional as F
from deepcore.data import datasets


class BernoulliRBM:
    """Binary visible and hidden units; energy E(v, h) = -v.b - h.c - v W h."""

    def __init__(self, n_visible, n_hidden, visible_mean):
        self.weight = dc.randn(n_visible, n_hidden) * 0.01
        # Hinton's practical guide: visible biases at log(p / (1 - p)) of each pixel's mean
        p = visible_mean.clamp(1e-3, 1 - 1e-3)
        self.visible_bias = (p / (1.0 - p)).log()
        self.hidden_bias = dc.zeros(n_hidden)

    def hidden_probability(self, v):
        return dc.sigmoid(v @ self.weight + self.hidden_bias)

    def visible_probability(self, h):
        return dc.sigmoid(h @ self.weight.t() + self.visible_bias)

    def gibbs_from_hidden(self, h, steps):
        """`steps` rounds h -> v -> h of block Gibbs sampling; returns (v sample, p(h|v), h sample)."""
        for _ in range(steps):
            v = dc.bernoulli(self.visible_probability(h))
            p_h = self.hidden_probability(v)
            h = dc.bernoulli(p_h)
        return v, p_h, h

    def free_energy(self, v):
        """F(v) = -v.b - sum_j softplus(c_j + (v W)_j): p(v) is proportional to exp(-F(v))."""
        return -(v @ self.visible_bias) - F.softplus(v @ self.weight + self.hidden_bias).sum(1)

    def update(self, v_data, v_model, p_h_data, p_h_model, lr):
        """One step up the log-likelihood gradient estimate <v h>_data - <v h>_model."""
        n = v_data.shape[0]
        self.weight += (v_data.t() @ p_h_data - v_model.t() @ p_h_model) * (lr / n)
        self.visible_bias += (v_data - v_model).sum(0) * (lr / n)
        self.hidden_bias += (p_h_data - p_h_model).sum(0) * (lr / n)


def reconstruction_error(rbm, v):
    """Squared error between v and its mean-field reconstruction p(v | p(h | v)), summed per image."""
    recon = rbm.visible_probability(rbm.hidden_probability(v))
    return ((v - recon) ** 2).sum(1).mean().item()


def pseudo_likelihood(rbm, v, rng, draws=10):
    """Mean over images of n_visible * log sigmoid(F(v with one random pixel flipped) - F(v)), the
    stochastic pseudo-log-likelihood of scikit-learn's BernoulliRBM.score_samples, averaged over
    `draws` random pixels per image (one draw, as scikit-learn's, moves by +-15 between epochs)."""
    n, n_visible = v.shape
    free = rbm.free_energy(v)
    total = 0.0
    for _ in range(draws):
        flip = F.one_hot(dc.from_numpy(rng.integers(0, n_visible, n)), n_visible).float()
        flipped = v + flip - 2.0 * v * flip
        total += (F.logsigmoid(rbm.free_energy(flipped) - free) * n_visible).mean().item()
    return total / draws


def load_binarized_mnist(root, train):
    images = datasets.MNIST(root, train=train, download=True).data
    return dc.from_numpy((np.asarray(images).reshape(len(images), 784) > 127).astype(np.float32))


def tile(images, rows, cols, normalize_each=False):
    """(rows*cols, 784) NumPy array -> one (rows*29+1, cols*29+1) picture with 1-pixel borders."""
    canvas = np.ones((rows * 29 + 1, cols * 29 + 1), np.float32)
    for i, image in enumerate(images[:rows * cols]):
        image = image.reshape(28, 28)
        if normalize_each:
            image = (image - image.min()) / max(image.max() - image.min(), 1e-8)
        r, c = divmod(i, cols)
        canvas[1 + r * 29:1 + r * 29 + 28, 1 + c * 29:1 + c * 29 + 28] = image
    return canvas


def save_picture(plt, canvas, name, title):
    fig, ax = plt.subplots(figsize=(canvas.shape[1] / 40, canvas.shape[0] / 40 + 0.4))
    ax.imshow(canvas, cmap="gray", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(plt.figure_path(name), dpi=100)
    plt.close(fig)
    print("saved", plt.figure_path(name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--k", type=int, default=1, help="Gibbs steps of the negative phase (CD-k)")
    parser.add_argument("--pcd", action="store_true", help="persistent CD: the chains continue across minibatches")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--train-images", type=int, default=60000, help="use the first N training images")
    parser.add_argument("--gibbs-steps", type=int, default=1000, help="Gibbs steps of the sample chains")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None, help="MNIST root (default: $DEEPCORE_DATA or the cache)")
    args = parser.parse_args()
    for name in ("epochs", "hidden", "k", "batch_size", "train_images", "gibbs_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")

    dc.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train = load_binarized_mnist(args.data_root, True)[:args.train_images]
    test = load_binarized_mnist(args.data_root, False)
    n = train.shape[0]
    print(f"MNIST: {n} binarized training images, {test.shape[0]} test images; RBM 784-{args.hidden}, "
          f"{'PCD' if args.pcd else 'CD'}-{args.k}, lr {args.lr}, batch {args.batch_size}")
    rbm = BernoulliRBM(784, args.hidden, train.mean(0))
    monitor_train, monitor_test = train[:1000], test[:1000]
    chains = dc.bernoulli(dc.full((args.batch_size, args.hidden), 0.5)) if args.pcd else None
    # The error of "reconstructing" every test digit as the mean training image: a model that learns
    # nothing about the digit it is shown scores this; the RBM must go well below it.
    baseline = ((monitor_test - train.mean(0)) ** 2).sum(1).mean().item()
    print(f"mean-image reconstruction error: {baseline:.2f} per image ({baseline / 784:.4f} per pixel)")
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = dc.from_numpy(rng.permutation(n).astype(np.int64))
        for first in range(0, n - args.batch_size + 1, args.batch_size):
            v_data = train[order[first:first + args.batch_size]]
            p_h_data = rbm.hidden_probability(v_data)
            # CD starts the negative chain at the data; PCD continues last minibatch's chains
            start_h = chains if args.pcd else dc.bernoulli(p_h_data)
            v_model, p_h_model, h_model = rbm.gibbs_from_hidden(start_h, args.k)
            if args.pcd:
                chains = h_model
            rbm.update(v_data, v_model, p_h_data, p_h_model, args.lr)
        error = reconstruction_error(rbm, monitor_test)
        pl_train, pl_test = pseudo_likelihood(rbm, monitor_train, rng), pseudo_likelihood(rbm, monitor_test, rng)
        history.append((epoch, error, pl_train, pl_test))
        print(f"epoch {epoch:3d}: reconstruction error {error:.2f} per image ({error / 784:.4f} per pixel), "
              f"pseudo-likelihood train {pl_train:.2f} test {pl_test:.2f}, {time.time() - start:.1f} s", flush=True)

    try:
        import headless_pyplot as plt
    except ImportError:
        return
    filters = rbm.weight.t().numpy()[:100]
    save_picture(plt, tile(filters, 10, 10, normalize_each=True), "rbm_mnist_filters.png",
                 f"RBM filters: weights of 100 of {args.hidden} hidden units")
    digits = test[:10]
    recon = rbm.visible_probability(rbm.hidden_probability(digits))
    save_picture(plt, tile(np.concatenate([digits.numpy(), recon.numpy()]), 2, 10), "rbm_mnist_reconstructions.png",
                 "test digits (top) and their reconstructions p(v | p(h | v))")
    v = dc.bernoulli(dc.full((10, 784), 0.5))
    rows, every = [], max(1, args.gibbs_steps // 10)
    h = dc.bernoulli(rbm.hidden_probability(v))
    for step in range(1, args.gibbs_steps + 1):
        v, _, h = rbm.gibbs_from_hidden(h, 1)
        if step % every == 0:
            rows.append(rbm.visible_probability(h).numpy())
    save_picture(plt, tile(np.concatenate(rows), len(rows), 10), "rbm_mnist_samples.png",
                 f"10 Gibbs chains from noise, a row every {every} steps")
    if math.isfinite(history[-1][1]):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
        epochs = [h[0] for h in history]
        left.plot(epochs, [h[1] for h in history], marker="o")
        left.set_xlabel("epoch")
        left.set_ylabel("reconstruction error per image")
        right.plot(epochs, [h[2] for h in history], marker="o", label="train")
        right.plot(epochs, [h[3] for h in history], marker="o", label="test")
        right.set_xlabel("epoch")
        right.set_ylabel("pseudo-log-likelihood")
        right.legend()
        fig.tight_layout()
        fig.savefig(plt.figure_path("rbm_mnist_curves.png"), dpi=100)
        print("saved", plt.figure_path("rbm_mnist_curves.png"))


if __name__ == "__main__":
    main()
