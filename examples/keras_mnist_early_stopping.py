"""Early stopping as the lecture describes it: train on 50k images, watch the loss on a 10k
validation split, stop when it stops improving (restoring the best weights), and report the
score on the untouched 10k test set used as the holdout. Both lecture models (MLP and CNN).

    python examples/keras_mnist_early_stopping.py --model mlp --epochs 50 --patience 3
"""
import argparse
import time

import numpy as np

import deepcore
import deepcore.keras as keras
from deepcore.keras.callbacks import EarlyStopping
from deepcore.keras.datasets import mnist
from deepcore.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from deepcore.keras.models import Sequential
from deepcore.keras.optimizers import Adadelta, RMSprop

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", choices=["mlp", "cnn", "both"], default="both")
parser.add_argument("--epochs", type=int, default=50, help="upper bound; early stopping usually ends sooner")
parser.add_argument("--patience", type=int, default=3)
parser.add_argument("--seed", type=int, default=None)
parser.add_argument("--verbose", type=int, default=2)
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)
# training / validation / holdout = 50k / 10k / 10k
x_fit, y_fit, x_val, y_val = x_train[:50000], y_train[:50000], x_train[50000:], y_train[50000:]


def mlp():
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)), Dropout(0.2),
                        Dense(512, activation="relu"), Dropout(0.2), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=RMSprop(), metrics=["accuracy"])
    return model, (lambda x: x.reshape(len(x), 784))


def cnn():
    model = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D((2, 2)), Dropout(0.25), Flatten(),
                        Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=Adadelta(), metrics=["accuracy"])
    return model, (lambda x: x.reshape(len(x), 28, 28, 1))


for name in (["mlp", "cnn"] if args.model == "both" else [args.model]):
    model, shape = (mlp if name == "mlp" else cnn)()
    stopper = EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True, verbose=1)
    start = time.time()
    history = model.fit(shape(x_fit), y_fit, batch_size=128, epochs=args.epochs, verbose=args.verbose,
                        validation_data=(shape(x_val), y_val), callbacks=[stopper])
    seconds = time.time() - start
    val_losses = history.history["val_loss"]
    best = int(np.argmin(val_losses))
    loss, acc = model.evaluate(shape(x_test), y_test, verbose=0)
    print(f"[{name}] trained {len(val_losses)} epochs ({seconds / len(val_losses):.1f} s each); best val_loss "
          f"{val_losses[best]:.4f} at epoch {best + 1} (weights restored)")
    print(f"[{name}] holdout (test set) loss {loss:.4f}, accuracy {acc * 100:.2f} %")
