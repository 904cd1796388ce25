"""Keras 2's variational auto-encoder example (2-D latent space) on deepcore.keras: the lecture's VAE
pictures, the test digits in latent space coloured by class and a grid of generated digits.

The lecture shows only the pictures; they come from the Keras blog and Keras 2's example
variational_autoencoder.py, whose listing this is with the import lines changed (plus
--epochs/--seed flags, the final loss line, and the standard library's normal quantiles when
SciPy is absent). Its loss is built from the model's symbolic tensors and attached with
vae.add_loss, as Keras 2 graphs allow. Writes keras_vae.png and keras_vae_2.png next to this
script when there is no display.
"""
import argparse
import time

import numpy as np

import deepcore
import headless_pyplot as plt
from deepcore.keras.layers import Input, Dense, Lambda
from deepcore.keras.models import Model
from deepcore.keras import backend as K
from deepcore.keras import metrics
from deepcore.keras.datasets import mnist

try:
    from scipy.stats import norm
except ImportError:  # the same quantiles from the standard library
    import statistics

    class norm:
        @staticmethod
        def ppf(p):
            return np.array([statistics.NormalDist().inv_cdf(float(v)) for v in np.ravel(p)])

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
parser.add_argument("--no-plot", action="store_true", help="skip the figures")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

batch_size = 100
original_dim = 784
latent_dim = 2
intermediate_dim = 256
epochs = args.epochs
epsilon_std = 1.0


x = Input(shape=(original_dim,))
h = Dense(intermediate_dim, activation='relu')(x)
z_mean = Dense(latent_dim)(h)
z_log_var = Dense(latent_dim)(h)


def sampling(args):
    z_mean, z_log_var = args
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0.,
                              stddev=epsilon_std)
    return z_mean + K.exp(z_log_var / 2) * epsilon


# note that "output_shape" isn't necessary with the TensorFlow backend
z = Lambda(sampling, output_shape=(latent_dim,))([z_mean, z_log_var])

# we instantiate these layers separately so as to reuse them later
decoder_h = Dense(intermediate_dim, activation='relu')
decoder_mean = Dense(original_dim, activation='sigmoid')
h_decoded = decoder_h(z)
x_decoded_mean = decoder_mean(h_decoded)

# instantiate VAE model
vae = Model(x, x_decoded_mean)

# Compute VAE loss
xent_loss = original_dim * metrics.binary_crossentropy(x, x_decoded_mean)
kl_loss = - 0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
vae_loss = K.mean(xent_loss + kl_loss)

vae.add_loss(vae_loss)
vae.compile(optimizer='rmsprop')
vae.summary()


# train the VAE on MNIST digits
(x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train.astype('float32') / 255.
x_test = x_test.astype('float32') / 255.
x_train = x_train.reshape((len(x_train), np.prod(x_train.shape[1:])))
x_test = x_test.reshape((len(x_test), np.prod(x_test.shape[1:])))

start = time.time()
history = vae.fit(x_train,
                  shuffle=True,
                  epochs=epochs,
                  batch_size=batch_size,
                  verbose=args.verbose,
                  validation_data=(x_test, None))
seconds = time.time() - start
print('Final loss: %.2f, validation loss: %.2f (reconstruction + KL, per image)'
      % (history.history['loss'][-1], history.history['val_loss'][-1]))
print(f'{seconds / max(epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')
if args.no_plot:
    raise SystemExit

# build a model to project inputs on the latent space
encoder = Model(x, z_mean)

# display a 2D plot of the digit classes in the latent space
x_test_encoded = encoder.predict(x_test, batch_size=batch_size)
plt.figure(figsize=(6, 6))
plt.scatter(x_test_encoded[:, 0], x_test_encoded[:, 1], c=y_test)
plt.colorbar()
plt.show()

# build a digit generator that can sample from the learned distribution
decoder_input = Input(shape=(latent_dim,))
_h_decoded = decoder_h(decoder_input)
_x_decoded_mean = decoder_mean(_h_decoded)
generator = Model(decoder_input, _x_decoded_mean)

# display a 2D manifold of the digits
n = 15  # figure with 15x15 digits
digit_size = 28
figure = np.zeros((digit_size * n, digit_size * n))
# linearly spaced coordinates on the unit square were transformed through the inverse CDF (ppf) of the Gaussian
# to produce values of the latent variables z, since the prior of the latent space is Gaussian
grid_x = norm.ppf(np.linspace(0.05, 0.95, n))
grid_y = norm.ppf(np.linspace(0.05, 0.95, n))

for i, yi in enumerate(grid_x):
    for j, xi in enumerate(grid_y):
        z_sample = np.array([[xi, yi]])
        x_decoded = generator.predict(z_sample)
        digit = x_decoded[0].reshape(digit_size, digit_size)
        figure[i * digit_size: (i + 1) * digit_size,
               j * digit_size: (j + 1) * digit_size] = digit

plt.figure(figsize=(10, 10))
plt.imshow(figure, cmap='Greys_r')
plt.show()
