"""A character-level LSTM that writes text, as the lecture's RNN slide shows (an LSTM trained on
LaTeX sources, after Karpathy's char-rnn), in Keras' lstm_text_generation.py style on deepcore.keras.

Corpus: real text that every machine has offline, the source of Python's standard library
(the first --chars characters of its modules, in name order; Karpathy's char-rnn was also shown on
source code). Changes from Keras' example: an Embedding replaces the one-hot input (the one-hot
tensor of 60k sequences would take a gigabyte), and the corpus. After every epoch the model
writes --sample characters from a seed line at several temperatures; the last samples go to
keras_char_rnn.txt beside this script (or $DEEPCORE_FIGURE_DIR).
"""
from __future__ import print_function

import argparse
import glob
import os
import sysconfig
import time

import numpy as np

import deepcore
from deepcore.keras.callbacks import LambdaCallback
from deepcore.keras.layers import LSTM, Dense, Embedding
from deepcore.keras.models import Sequential
from deepcore.keras.optimizers import RMSprop

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--chars", type=int, default=200000, help="corpus length in characters")
parser.add_argument("--sample", type=int, default=300, help="characters written after each epoch")
parser.add_argument("--seed", type=int, default=None, help="seed deepcore's and NumPy's random streams")
parser.add_argument("--verbose", type=int, default=1)
args = parser.parse_args()
if args.seed is not None:
    deepcore.manual_seed(args.seed)
    np.random.seed(args.seed)

stdlib = sysconfig.get_paths()["stdlib"]
text = ""
for path in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
    with open(path, encoding="utf-8", errors="replace") as f:
        text += f.read()
    if len(text) >= args.chars:
        break
text = text[:args.chars]
chars = sorted(set(text))
print("corpus length:", len(text), "distinct characters:", len(chars))
char_indices = {c: i for i, c in enumerate(chars)}

# cut the text in semi-redundant sequences of maxlen characters
maxlen, step = 40, 3
starts = np.arange(0, len(text) - maxlen, step)
codes = np.array([char_indices[c] for c in text], dtype=np.int64)
x = codes[starts[:, None] + np.arange(maxlen)]
y = np.zeros((len(starts), len(chars)), dtype=np.float32)
y[np.arange(len(starts)), codes[starts + maxlen]] = 1
print("sequences:", len(starts))

model = Sequential()
model.add(Embedding(len(chars), 32, input_length=maxlen))
model.add(LSTM(128))
model.add(Dense(len(chars), activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer=RMSprop(lr=0.01))
model.summary()


def sample(preds, temperature=1.0):
    """An index drawn from the probabilities `preds` sharpened (T < 1) or flattened (T > 1)."""
    preds = np.log(np.asarray(preds, dtype=np.float64) + 1e-12) / temperature
    probs = np.exp(preds - preds.max())
    return np.random.choice(len(probs), p=probs / probs.sum())


def write(seed_text, temperature, length):
    codes_now = [char_indices[c] for c in seed_text]
    out = []
    for _ in range(length):
        preds = model.predict(np.array([codes_now[-maxlen:]]), verbose=0)[0]
        code = sample(preds, temperature)
        codes_now.append(code)
        out.append(chars[code])
    return "".join(out)


samples = []


def on_epoch_end(epoch, logs):
    start = np.random.randint(0, len(text) - maxlen - 1)
    seed_text = text[start:start + maxlen]
    samples.clear()
    print(f"\n----- epoch {epoch + 1}, loss {logs['loss']:.4f}, seed: {seed_text!r}")
    for temperature in (0.2, 0.5, 1.0):
        written = write(seed_text, temperature, args.sample)
        samples.append(f"--- temperature {temperature}, seed {seed_text!r}\n{seed_text}{written}\n")
        print(f"--- temperature {temperature}:\n{seed_text}{written}")


started = time.time()
history = model.fit(x, y, batch_size=128, epochs=args.epochs, verbose=args.verbose,
                    callbacks=[LambdaCallback(on_epoch_end=on_epoch_end)])
seconds = time.time() - started
frequencies = np.bincount(codes, minlength=len(chars)) / len(codes)
unigram = -np.sum(frequencies * np.log(frequencies))  # the loss of predicting from character counts alone
print(f"final loss {history.history['loss'][-1]:.4f} (character frequencies alone: {unigram:.4f}, "
      f"uniform guess: {np.log(len(chars)):.4f})")
print(f"{seconds / max(args.epochs, 1):.2f} s per epoch (with sampling), {deepcore.get_num_threads()} threads")
out_dir = os.environ.get("DEEPCORE_FIGURE_DIR", os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(out_dir, "keras_char_rnn.txt"), "w") as f:
    f.write("".join(samples))
