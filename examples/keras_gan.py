"""A generative adversarial network on MNIST, Keras style, on deepcore.keras: the lecture's GAN
pictures (generated digits after 1000, 2000, ... training steps).

The Keras-era recipe: an MLP generator (100 -> 256 -> 512 -> 1024 -> 784, LeakyReLU(0.2),
BatchNormalization(momentum=0.8), tanh) and discriminator (784 -> 512 -> 256 -> 1, LeakyReLU(0.2)),
one Adam(0.0002, 0.5) for both, the discriminator compiled and then frozen inside the combined
model; each step trains the discriminator on a real and a generated batch, then the generator
through the combined model. Writes keras_gan.png next to this script when there is no display.
"""
import argparse
import time

import numpy as np

import deepcore
from deepcore.keras.datasets import mnist
from deepcore.keras.layers import BatchNormalization, Dense, Flatten, Input, LeakyReLU, Reshape
from deepcore.keras.models import Model, Sequential
from deepcore.keras.optimizers import Adam

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=10000)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--sample-every", type=int, default=1000, help="keep generated digits every N steps")
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--no-plot", action="store_true", help="skip the figure")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

img_shape = (28, 28, 1)
latent_dim = 100
optimizer = Adam(0.0002, 0.5)

discriminator = Sequential([
    Flatten(input_shape=img_shape),
    Dense(512), LeakyReLU(alpha=0.2),
    Dense(256), LeakyReLU(alpha=0.2),
    Dense(1, activation='sigmoid'),
])
discriminator.compile(loss='binary_crossentropy', optimizer=optimizer, metrics=['accuracy'])

generator = Sequential([
    Dense(256, input_dim=latent_dim), LeakyReLU(alpha=0.2), BatchNormalization(momentum=0.8),
    Dense(512), LeakyReLU(alpha=0.2), BatchNormalization(momentum=0.8),
    Dense(1024), LeakyReLU(alpha=0.2), BatchNormalization(momentum=0.8),
    Dense(int(np.prod(img_shape)), activation='tanh'),
    Reshape(img_shape),
])

# The combined model trains the generator to fool the (frozen) discriminator.
discriminator.trainable = False
z = Input(shape=(latent_dim,))
combined = Model(z, discriminator(generator(z)))
combined.compile(loss='binary_crossentropy', optimizer=optimizer)

(x_train, _), (_, _) = mnist.load_data()
x_train = (x_train.astype(np.float32) / 127.5 - 1.0)[..., None]  # [-1, 1], as tanh

valid = np.ones((args.batch_size, 1), np.float32)
fake = np.zeros((args.batch_size, 1), np.float32)
fixed_noise = np.random.normal(0, 1, (8, latent_dim)).astype(np.float32)  # the same 8 codes at every checkpoint
samples = []
start = time.time()
for step in range(1, args.steps + 1):
    imgs = x_train[np.random.randint(0, x_train.shape[0], args.batch_size)]
    noise = np.random.normal(0, 1, (args.batch_size, latent_dim)).astype(np.float32)
    gen_imgs = generator.predict(noise)
    d_loss_real = discriminator.train_on_batch(imgs, valid)
    d_loss_fake = discriminator.train_on_batch(gen_imgs, fake)
    d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)
    g_loss = combined.train_on_batch(noise, valid)
    if step % args.sample_every == 0 or step == args.steps:
        print(f"step {step}: D loss {d_loss[0]:.3f}, D accuracy {100 * d_loss[1]:.1f} %, G loss {g_loss:.3f} "
              f"({time.time() - start:.0f} s)", flush=True)
        if step % args.sample_every == 0:
            samples.append((step, generator.predict(fixed_noise)))
final = generator.predict(np.random.normal(0, 1, (1000, latent_dim)).astype(np.float32))
print(f"{1000 * (time.time() - start) / args.steps:.1f} ms per step; generated pixels below 0 (background): "
      f"{100 * np.mean(final < 0):.1f} % (real digits: {100 * np.mean(x_train < 0):.1f} %)")

if not args.no_plot and samples:
    import headless_pyplot as plt

    fig, axes = plt.subplots(len(samples), 8, figsize=(8, 1.05 * len(samples)), squeeze=False)
    for row, (step, imgs) in enumerate(samples):
        for col in range(8):
            ax = axes[row][col]
            ax.imshow(0.5 * imgs[col, :, :, 0] + 0.5, cmap='gray', vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(f"{step}", rotation=0, ha='right', va='center')
    fig.suptitle('GAN samples after N steps (the same 8 codes)')
    plt.show()
