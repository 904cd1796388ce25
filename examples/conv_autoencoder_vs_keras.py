"""The lecture's convolutional auto-encoder, trained on deepcore.keras or on real Keras 3 with the
same data and the same optimizer settings, one JSON line per epoch: the tool for finding why the
lecture says 0.094 where deepcore.keras ends at 0.1017 after 50 epochs (issue 15; not yet run to
the end, see docs/rl_rbm_gan.md).

    python examples/conv_autoencoder_vs_keras.py --framework deepcore --epochs 50 --log dc.jsonl
    KERAS_BACKEND=torch python examples/conv_autoencoder_vs_keras.py --framework keras --log k.jsonl

Both read MNIST through deepcore.keras.datasets.mnist (real Keras would download it; nothing is
fetched here), or, with --mnist-npz, from an .npz of those same arrays (x_train, x_test) written
by --save-mnist-npz: that is how real Keras ran on a machine without deepcore. The optimizer is Adadelta with --lr/--rho/--epsilon given explicitly, so the two
frameworks' different defaults (Keras 3: lr 0.001; Keras 2 and deepcore: lr 1.0) do not enter.
"""
import argparse
import json
import os
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--framework", choices=("deepcore", "keras"), required=True)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1.0, help="Adadelta learning rate (Keras 1 and 2: 1.0)")
    p.add_argument("--rho", type=float, default=0.95)
    p.add_argument("--epsilon", type=float, default=1e-7, help="Keras 1 and Keras 2.0: 1e-8; later: 1e-7")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-samples", type=int, default=60000)
    p.add_argument("--log", type=str, default=None, help="append one JSON line per epoch to this file")
    p.add_argument("--mnist-npz", type=str, default=None, help="read x_train, x_test from this .npz instead")
    p.add_argument("--save-mnist-npz", type=str, default=None,
                   help="write deepcore's MNIST images to this .npz and exit")
    return p.parse_args(argv)


def load_images(npz_path):
    """MNIST's training and test images (uint8, (N, 28, 28)): deepcore's loader, or a saved copy of it."""
    if npz_path is None:
        from deepcore.keras.datasets import mnist
        (x_train, _), (x_test, _) = mnist.load_data()
        return x_train, x_test
    with np.load(npz_path) as saved:
        return saved["x_train"], saved["x_test"]


def build(layers, models):
    """The slide's listing, verbatim apart from the module the layers come from."""
    Input, Conv2D = layers.Input, layers.Conv2D
    MaxPooling2D, UpSampling2D = layers.MaxPooling2D, layers.UpSampling2D
    input_img = Input(shape=(28, 28, 1))
    x = Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)
    x = MaxPooling2D((2, 2), padding='same')(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = MaxPooling2D((2, 2), padding='same')(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    encoded = MaxPooling2D((2, 2), padding='same')(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(encoded)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(16, (3, 3), activation='relu')(x)
    x = UpSampling2D((2, 2))(x)
    decoded = Conv2D(1, (3, 3), activation='sigmoid', padding='same')(x)
    return models.Model(input_img, decoded)


def main(argv=None):
    args = parse_args(argv)
    if args.save_mnist_npz:
        x_train, x_test = load_images(None)
        np.savez_compressed(args.save_mnist_npz, x_train=x_train, x_test=x_test)
        return
    np.random.seed(args.seed)
    if args.framework == "keras":
        if os.environ.get("KERAS_BACKEND", "torch") != "torch":
            raise SystemExit("set KERAS_BACKEND=torch (the only backend installed next to deepcore)")
        os.environ["KERAS_BACKEND"] = "torch"
        import keras
        keras.utils.set_random_seed(args.seed)
        layers, models = keras.layers, keras.models
        optimizer = keras.optimizers.Adadelta(learning_rate=args.lr, rho=args.rho, epsilon=args.epsilon)
        callback_type = keras.callbacks.LambdaCallback
    else:
        import deepcore
        import deepcore.keras as dk
        deepcore.manual_seed(args.seed)
        layers, models = dk.layers, dk.models
        optimizer = dk.optimizers.Adadelta(lr=args.lr, rho=args.rho, epsilon=args.epsilon)
        callback_type = dk.callbacks.LambdaCallback

    x_train, x_test = load_images(args.mnist_npz)
    x_train = x_train[:args.train_samples].astype('float32').reshape(-1, 28, 28, 1) / 255.
    x_test = x_test.astype('float32').reshape(-1, 28, 28, 1) / 255.

    autoencoder = build(layers, models)
    autoencoder.compile(optimizer=optimizer, loss='binary_crossentropy')
    settings = dict(framework=args.framework, lr=args.lr, rho=args.rho, epsilon=args.epsilon,
                    batch_size=args.batch_size, seed=args.seed, train_samples=len(x_train))
    start = time.time()

    def log_epoch(epoch, logs):
        row = dict(settings, epoch=epoch + 1, loss=float(logs["loss"]), val_loss=float(logs["val_loss"]),
                   seconds=round(time.time() - start, 1))
        print(json.dumps(row), flush=True)
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps(row) + "\n")

    autoencoder.fit(x_train, x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=0,
                    validation_data=(x_test, x_test), callbacks=[callback_type(on_epoch_end=log_epoch)])


if __name__ == "__main__":
    main()
