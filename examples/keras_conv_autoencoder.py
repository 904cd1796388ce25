"""The lecture's convolutional auto-encoder listing (28x28x1 -> 4x4x8 -> 28x28x1), on deepcore.keras.

Only the import lines differ from the slide (plus --epochs/--seed flags, the final loss line and
the figure of reconstructions). Lecture: loss 0.094, against 0.11 for the dense auto-encoder
(keras_autoencoder.py); 'adadelta' is Keras 2's Adadelta (lr 1.0).
Writes keras_conv_autoencoder.png next to this script when there is no display.
"""
from __future__ import print_function

import argparse
import time

import numpy as np

import deepcore
from deepcore.keras.layers import Input, Dense  # noqa: F401  (the slide imports Dense too)
from deepcore.keras.models import Model
from deepcore.keras.layers import Conv2D, MaxPooling2D, UpSampling2D
from deepcore.keras import backend as K  # noqa: F401
from deepcore.keras.datasets import mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
parser.add_argument("--train-samples", type=int, default=60000, help="use the first N training images")
parser.add_argument("--no-plot", action="store_true", help="skip the figure of reconstructions")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

(x_train, _), (x_test, _) = mnist.load_data()
x_train = x_train[:args.train_samples]

x_train = x_train.astype('float32') / 255.
x_test = x_test.astype('float32') / 255.
x_train = np.reshape(x_train, (len(x_train), 28, 28, 1))
x_test = np.reshape(x_test, (len(x_test), 28, 28, 1))

input_img = Input(shape=(28, 28, 1))

x = Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)
x = MaxPooling2D((2, 2), padding='same')(x)
x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
x = MaxPooling2D((2, 2), padding='same')(x)
x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
encoded = MaxPooling2D((2, 2), padding='same')(x)

# at this point the representation is (4, 4, 8) i.e. 128-dimensional
x = Conv2D(8, (3, 3), activation='relu', padding='same')(encoded)
x = UpSampling2D((2, 2))(x)
x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
x = UpSampling2D((2, 2))(x)
x = Conv2D(16, (3, 3), activation='relu')(x)
x = UpSampling2D((2, 2))(x)
decoded = Conv2D(1, (3, 3), activation='sigmoid', padding='same')(x)

autoencoder = Model(input_img, decoded)
autoencoder.compile(optimizer='adadelta', loss='binary_crossentropy')

start = time.time()
history = autoencoder.fit(x_train, x_train,
                          epochs=args.epochs,
                          batch_size=128,
                          shuffle=True,
                          verbose=args.verbose,
                          validation_data=(x_test, x_test))
seconds = time.time() - start

print('Final loss: %.4f, validation loss: %.4f' % (history.history['loss'][-1], history.history['val_loss'][-1]))
print(f'{seconds / max(args.epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')
if not args.no_plot:
    from reconstructions import show_reconstructions
    show_reconstructions(x_test, autoencoder.predict(x_test[:10]),
                         'convolutional auto-encoder, 4x4x8 code: test digits (top), reconstructions')
