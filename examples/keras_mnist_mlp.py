"""The lecture's Keras MNIST MLP listing (keras_mnist_mlp.py), run on deepcore.keras.

Only the import lines differ from the slide (plus --epochs/--seed flags and the timing line).
Lecture: 98.40 % test accuracy after 20 epochs.
"""
from __future__ import print_function

import argparse
import time

import numpy as np

import deepcore
import deepcore.keras as keras
from deepcore.keras.datasets import mnist
from deepcore.keras.models import Sequential
from deepcore.keras.layers import Dense, Dropout
from deepcore.keras.optimizers import RMSprop

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

batch_size = 128
num_classes = 10
epochs = args.epochs

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train.reshape(60000, 784)
x_test = x_test.reshape(10000, 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

start = time.time()
history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=args.verbose,
                    validation_data=(x_test, y_test))
seconds = time.time() - start
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
print(f'{seconds / max(epochs, 1):.2f} s per epoch (with validation), {deepcore.get_num_threads()} threads')
