"""The lecture's Keras MNIST CNN listing, run on deepcore.keras.

Only the import lines differ from the slide (plus --epochs/--seed flags and the timing line).
Lecture: 99.25 % test accuracy after 12 epochs (Keras 2's Adadelta(): lr=1.0, rho=0.95).
"""
from __future__ import print_function

import argparse
import time

import numpy as np

import deepcore
import deepcore.keras as keras
from deepcore.keras.datasets import mnist
from deepcore.keras.models import Sequential
from deepcore.keras.layers import Dense, Dropout, Flatten
from deepcore.keras.layers import Conv2D, MaxPooling2D
from deepcore.keras import backend as K

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
parser.add_argument("--train-samples", type=int, default=60000, help="use the first N training images")
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

batch_size = 128
num_classes = 10
epochs = args.epochs

# input image dimensions
img_rows, img_cols = 28, 28

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, y_train = x_train[:args.train_samples], y_train[:args.train_samples]

if K.image_data_format() == 'channels_first':
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(),
              metrics=['accuracy'])

start = time.time()
model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=args.verbose,
          validation_data=(x_test, y_test))
seconds = time.time() - start
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
print(f'{seconds / max(epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')
