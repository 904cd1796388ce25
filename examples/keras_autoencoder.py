"""The lecture's dense auto-encoder listing (784 -> 32 -> 784), run on deepcore.keras.

Only the import lines differ from the slide (plus --epochs/--seed flags, the final loss line and
the figure of reconstructions the slide shows). The Keras blog the slides follow: a stable
train/validation loss of about 0.11 after 50 epochs; 'adadelta' is Keras 2's Adadelta (lr 1.0).
Writes keras_autoencoder.png next to this script when there is no display.
"""
from __future__ import print_function

import argparse
import time

import numpy as np

import deepcore
from deepcore.keras.layers import Input, Dense
from deepcore.keras.models import Model
from deepcore.keras.datasets import mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
parser.add_argument("--no-plot", action="store_true", help="skip the figure of reconstructions")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

(x_train, _), (x_test, _) = mnist.load_data()

x_train = x_train.astype('float32') / 255.
x_test = x_test.astype('float32') / 255.
x_train = x_train.reshape((len(x_train), np.prod(x_train.shape[1:])))
x_test = x_test.reshape((len(x_test), np.prod(x_test.shape[1:])))
print(x_train.shape)
print(x_test.shape)

encoding_dim = 32

input_img = Input(shape=(784,))
encoded = Dense(encoding_dim, activation='relu')(input_img)
decoded = Dense(784, activation='sigmoid')(encoded)

# this model maps an input to its reconstruction
autoencoder = Model(input_img, decoded)

autoencoder.compile(optimizer='adadelta', loss='binary_crossentropy')

start = time.time()
history = autoencoder.fit(x_train, x_train,
                          epochs=args.epochs,
                          batch_size=256,
                          shuffle=True,
                          verbose=args.verbose,
                          validation_data=(x_test, x_test))
seconds = time.time() - start

decoded_imgs = autoencoder.predict(x_test)

print('Final loss: %.4f, validation loss: %.4f' % (history.history['loss'][-1], history.history['val_loss'][-1]))
print(f'{seconds / max(args.epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')
if not args.no_plot:
    from reconstructions import show_reconstructions
    show_reconstructions(x_test, decoded_imgs, 'dense auto-encoder, 32-d code: test digits (top), reconstructions')
