"""The training examples run as scripts and print what they promise."""
import os
import re
import subprocess
import sys
import tempfile

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
FIGURES = tempfile.mkdtemp(prefix="deepcore-figures-")  # not examples/: a real run's figures stay


def run(script, *args, timeout=600):
    env = dict(os.environ, MPLBACKEND="agg", DEEPCORE_FIGURE_DIR=FIGURES)
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                         env=env, cwd=EXAMPLES, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def test_perceptron_converges_on_separable_data_but_not_on_xor():
    pytest.importorskip("matplotlib")
    out = run("perceptron.py")
    assert "separable set: converged" in out
    assert "XOR, single-layer perceptron: cannot converge" in out
    assert "XOR, MLP 2-4-1: solved" in out
    assert os.path.getsize(os.path.join(FIGURES, "perceptron.png")) > 1000


def test_pytorch_mnist_mlp_listing_learns_in_one_epoch():
    out = run("pytorch_mnist_mlp.py", "--epochs", "1", "--log-interval", "200")
    m = re.search(r"Accuracy: (\d+)/10000", out)
    assert m, out[-2000:]
    assert int(m.group(1)) > 8500, out[-500:]


def final_losses(out):
    m = re.search(r"Final loss: ([0-9.]+), validation loss: ([0-9.]+)", out)
    assert m, out[-2000:]
    return float(m.group(1)), float(m.group(2))


# Binary cross-entropy of predicting every test pixel by its mean over the training images.
MEAN_IMAGE_BCE = 0.2625


def test_dense_autoencoder_listing_beats_the_mean_image():
    pytest.importorskip("deepcore.keras.datasets.mnist")
    # Keras 2's Adadelta (lr 1.0) starts slowly: 0.271, 0.252, 0.229, 0.212 over the first 4 epochs (seed 0).
    _, val = final_losses(run("keras_autoencoder.py", "--epochs", "4", "--seed", "0", "--verbose", "0", "--no-plot"))
    assert val < MEAN_IMAGE_BCE - 0.03, val


def test_conv_autoencoder_listing_runs_and_learns():
    pytest.importorskip("matplotlib")
    pytest.importorskip("deepcore.keras.datasets.mnist")
    # One epoch on 12000 images: 0.223 (seed 0); on all 60000: 0.168.
    out = run("keras_conv_autoencoder.py", "--epochs", "1", "--train-samples", "12000", "--seed", "0", "--verbose", "0")
    _, val = final_losses(out)
    assert val < MEAN_IMAGE_BCE - 0.02, val
    assert os.path.getsize(os.path.join(FIGURES, "keras_conv_autoencoder.png")) > 1000


def test_vae_example_learns_and_draws_its_latent_space():
    pytest.importorskip("matplotlib")
    pytest.importorskip("deepcore.keras.datasets.mnist")
    # Per image: reconstruction (BCE summed over pixels) + KL. The mean image alone scores 784 * 0.2625 = 206;
    # one epoch reaches 173 (seed 0).
    out = run("keras_vae.py", "--epochs", "1", "--seed", "0", "--verbose", "0")
    m = re.search(r"validation loss: ([0-9.]+)", out)
    assert m, out[-2000:]
    assert float(m.group(1)) < 190, out[-500:]
    for figure in ("keras_vae.png", "keras_vae_2.png"):  # latent scatter, generated digits
        assert os.path.getsize(os.path.join(FIGURES, figure)) > 10000


def test_gan_example_learns_the_background_and_draws_its_samples():
    pytest.importorskip("matplotlib")
    pytest.importorskip("deepcore.keras.datasets.mnist")
    # Before training about half the generated pixels are below 0 (tanh of noise); MNIST's are 87 % background.
    # 300 steps reach 71 % (seed 0); a generator the combined model fails to train stays near 50 %.
    out = run("keras_gan.py", "--steps", "300", "--sample-every", "150", "--seed", "0")
    m = re.search(r"generated pixels below 0 \(background\): ([0-9.]+) %", out)
    assert m, out[-2000:]
    assert float(m.group(1)) > 62, out[-800:]
    assert re.search(r"step 300: D loss [0-9.]+, D accuracy", out), out[-800:]
    assert os.path.getsize(os.path.join(FIGURES, "keras_gan.png")) > 10000


def test_char_rnn_example_beats_character_frequencies():
    # A model that knows only how often each character occurs has the corpus' unigram entropy as its loss
    # (3.29 here); three epochs on 20k characters reach 2.43 (seed 0). An LSTM that learns nothing from
    # the context stays at or above that.
    out = run("keras_char_rnn.py", "--epochs", "3", "--chars", "20000", "--sample", "40", "--seed", "0",
              "--verbose", "0")
    m = re.search(r"final loss ([0-9.]+) \(character frequencies alone: ([0-9.]+)", out)
    assert m, out[-2000:]
    assert float(m.group(1)) < float(m.group(2)) - 0.3, out[-800:]
    with open(os.path.join(FIGURES, "keras_char_rnn.txt")) as f:
        assert f.read().count("--- temperature") == 3


def test_rbm_example_finds_the_two_kinds_of_film():
    # Edwin Chen's six viewers: 3 like SF/fantasy, 3 Oscar winners (LOTR 3 is both); each hidden unit,
    # switched on alone, must bring back one group (seeds 0-4 all do at 5000 epochs; 2000 suffice).
    out = run("rbm_movies.py", "--epochs", "2000", "--seed", "0")
    assert "wants to watch Harry Potter, Avatar, LOTR 3\n" in out, out[-1500:]
    assert "wants to watch LOTR 3, Gladiator, Titanic\n" in out, out[-1500:]
    assert re.search(r"George \(Gladiator, Titanic\): .* \(Oscar winners\)", out), out[-1500:]


def test_q_learning_example_finds_the_shortest_safe_path():
    out = run("q_learning.py", "--episodes", "1000", "--seed", "1")
    m = re.search(r"max Q\(start\) = ([0-9.]+) \(optimum: gamma\^5 = ([0-9.]+)", out)
    assert m and abs(float(m.group(1)) - float(m.group(2))) < 1e-3, out
    assert "greedy success rate: 1.00" in out, out


def test_dqn_example_learns_to_balance_the_pole():
    # Random play lasts about 22 steps; 5000 steps of DQN (seed 0, built-in dynamics) give a best
    # network whose greedy episodes last about 340 on average. One that learned nothing stays far below 100.
    # (The longer checks of examples/dqn_cartpole.py are in test_examples_rl_rbm.py.)
    out = run("dqn_cartpole.py", "--steps", "5000", "--test-episodes", "5", "--env", "builtin", "--seed", "0")
    m = re.search(r"mean return ([0-9.]+) over 5 greedy episodes", out)
    assert m, out[-2000:]
    assert float(m.group(1)) > 100, out[-1500:]


def test_a_figure_folder_that_does_not_exist_yet_is_created(tmp_path, monkeypatch):
    """DEEPCORE_FIGURE_DIR naming a new folder used to crash an example at its very end, when it saved."""
    pytest.importorskip("matplotlib")
    import importlib.util
    spec = importlib.util.spec_from_file_location("headless_pyplot", os.path.join(EXAMPLES, "headless_pyplot.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path / "not" / "yet"
    monkeypatch.setenv("DEEPCORE_FIGURE_DIR", str(folder))
    path = module.figure_path("curve.png")
    assert folder.is_dir() and path == str(folder / "curve.png")

