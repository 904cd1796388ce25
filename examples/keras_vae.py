"""A variational auto-encoder with a 2-D latent space, Keras style, on deepcore.keras: the lecture's
VAE pictures (the test digits in latent space, coloured by class; a grid of generated digits).

The lecture shows only the pictures; the model is Keras 2's example VAE (784-512-2, Adam, batch
128, 50 epochs), with its KL term added by a custom layer through ``add_loss`` and the
reconstruction term as a custom loss written with ``K``. Writes keras_vae.png next to this script
when there is no display.
"""
import argparse
import statistics
import time

import numpy as np

import deepcore
from deepcore.keras import backend as K
from deepcore.keras.datasets import mnist
from deepcore.keras.layers import Dense, Input, Lambda, Layer
from deepcore.keras.models import Model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
parser.add_argument("--no-plot", action="store_true", help="skip the figures")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

original_dim, intermediate_dim, latent_dim = 784, 512, 2
batch_size = 128

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train = x_train.reshape(-1, original_dim).astype('float32') / 255.
x_test = x_test.reshape(-1, original_dim).astype('float32') / 255.


class KLDivergence(Layer):
    """Passes (z_mean, z_log_var) through and adds KL(q(z|x) || N(0, I)), averaged over the batch."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
        self.add_loss(K.mean(kl))
        return [z_mean, z_log_var]


def sampling(args):
    """The reparameterization trick: z = mean + sigma * eps, eps ~ N(0, I)."""
    z_mean, z_log_var = args
    epsilon = K.random_normal(shape=K.shape(z_mean))
    return z_mean + K.exp(0.5 * z_log_var) * epsilon


def reconstruction_loss(y_true, y_pred):
    """Binary cross-entropy summed over the 784 pixels (not averaged: the KL term is a sum too)."""
    return original_dim * K.mean(K.binary_crossentropy(y_true, y_pred), axis=-1)


inputs = Input(shape=(original_dim,))
h = Dense(intermediate_dim, activation='relu')(inputs)
z_mean = Dense(latent_dim)(h)
z_log_var = Dense(latent_dim)(h)
z_mean, z_log_var = KLDivergence()([z_mean, z_log_var])
z = Lambda(sampling, output_shape=(latent_dim,))([z_mean, z_log_var])

decoder_h = Dense(intermediate_dim, activation='relu')
decoder_mean = Dense(original_dim, activation='sigmoid')
x_decoded_mean = decoder_mean(decoder_h(z))

vae = Model(inputs, x_decoded_mean)
vae.compile(optimizer='adam', loss=reconstruction_loss)
vae.summary()

start = time.time()
history = vae.fit(x_train, x_train, shuffle=True, epochs=args.epochs, batch_size=batch_size,
                  validation_data=(x_test, x_test), verbose=args.verbose)
seconds = time.time() - start
print('Final loss: %.2f, validation loss: %.2f (reconstruction + KL, per image)'
      % (history.history['loss'][-1], history.history['val_loss'][-1]))
print(f'{seconds / max(args.epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')

# The encoder (to the latent means) and the generator (latent point -> image) share the VAE's layers.
encoder = Model(inputs, z_mean)
decoder_input = Input(shape=(latent_dim,))
generator = Model(decoder_input, decoder_mean(decoder_h(decoder_input)))

if not args.no_plot:
    import headless_pyplot as plt

    z_test = encoder.predict(x_test, batch_size=batch_size)
    n, digit = 15, 28
    # Latent points spaced by the prior's quantiles, as in the Keras example (stdlib, no SciPy).
    grid = [statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
    points = np.array([[xi, yi] for yi in grid[::-1] for xi in grid], dtype=np.float32)
    images = generator.predict(points).reshape(n, n, digit, digit)
    figure = images.transpose(0, 2, 1, 3).reshape(n * digit, n * digit)

    fig, (ax_latent, ax_grid) = plt.subplots(1, 2, figsize=(13, 6))
    scatter = ax_latent.scatter(z_test[:, 0], z_test[:, 1], c=y_test, cmap='tab10', s=2)
    fig.colorbar(scatter, ax=ax_latent, label='digit')
    ax_latent.set_xlabel('z[0]')
    ax_latent.set_ylabel('z[1]')
    ax_latent.set_title('test digits in the 2-D latent space (means)')
    ax_grid.imshow(figure, cmap='gray')
    ax_grid.set_title('generated from a grid of latent points')
    ax_grid.axis('off')
    plt.tight_layout()
    plt.show()
