"""deepcore.run: scripts written for torch / keras run unchanged, each in a fresh interpreter (the hook
must not meet the real torch that this test process may have imported)."""
import shutil
import subprocess
import sys
import textwrap

import pytest


def run_script(tmp_path, source, *args, runner=(sys.executable, "-m", "deepcore.run"), files=None):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return subprocess.run([*runner, *args[:1], str(script), *args[1:]] if args and args[0] == "-v"
                          else [*runner, str(script), *args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)


def test_a_pytorch_training_script_runs_unchanged(tmp_path):
    result = run_script(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        from torch.utils.data import DataLoader, TensorDataset
        from torch.optim.lr_scheduler import StepLR

        import helper  # the script's own folder is on sys.path, as with `python script.py`

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(2, 16)
                self.fc2 = nn.Linear(16, 2)

            def forward(self, x):
                return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)

        torch.manual_seed(0)
        x = torch.randn(256, 2)
        y = (x[:, 0] * x[:, 1] > 0).long()
        loader = torch.utils.data.DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        model = Net()
        opt = optim.Adam(model.parameters(), lr=0.05)
        sched = StepLR(opt, step_size=1, gamma=0.9)
        for epoch in range(30):
            for data, target in loader:
                opt.zero_grad()
                loss = F.nll_loss(model(data), target)
                loss.backward()
                opt.step()
            sched.step()
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean()
        assert isinstance(x, torch.Tensor) and isinstance(model, torch.nn.Module)
        assert torch.nn.functional is F and torch.nn is nn
        print(__name__, sys.argv[1:], helper.VALUE, 'loss {:.3f} acc {:.2f}'.format(loss, acc))
        """, "--epochs", "3", files={"helper.py": "VALUE = 42\n"})
    assert result.returncode == 0, result.stderr
    out = result.stdout.split()
    assert out[:5] == ["__main__", "['--epochs',", "'3']", "42", "loss"]
    assert float(out[-1]) > 0.9, result.stdout


def test_a_missing_name_stops_the_script_with_one_clear_line(tmp_path):
    result = run_script(tmp_path, """
        import torch
        print("before")
        torch.frobnicate(torch.ones(2))
        print("after")
        """)
    assert result.returncode == 1
    assert result.stdout.strip() == "before"
    assert result.stderr.strip() == "deepcore does not implement torch.frobnicate yet"


@pytest.mark.parametrize("statement, name", [
    ("import torch.fx", "torch.fx"),
    ("from torch.nn import Frobnicator", "torch.nn.Frobnicator"),
    ("import torch.nn as nn\nnn.functional.frobnicate", "torch.nn.functional.frobnicate"),
    ("import torch\ntorch.zeros(2).frobnicate()", "torch.Tensor.frobnicate"),
    ("import tensorflow as tf\ntf.constant(1)", "tensorflow.constant"),
    ("import torchvision.frobnicate", "torchvision.frobnicate"),
])
def test_missing_modules_and_attributes_name_what_is_missing(tmp_path, statement, name):
    result = run_script(tmp_path, statement + "\n")
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"deepcore does not implement {name} yet"
    assert "Traceback" not in result.stderr


def test_feature_probes_keep_their_meaning(tmp_path):
    # hasattr / getattr-with-default must not stop the script: they are how scripts probe for features.
    result = run_script(tmp_path, """
        import torch
        try:
            torch.not_a_thing
        except AttributeError:
            print("handled")
        print(hasattr(torch, "not_a_thing"), getattr(torch.nn, "NotALayer", None), hasattr(torch, "no_grad"))
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.deterministic = True
        print(torch.backends.cudnn.benchmark, torch.backends.mps.is_available(), torch.accelerator.is_available())
        print('{:+.2f}'.format(torch.tensor(1.5)), torch.ones(2).int().tolist(), torch.compile(abs)(-2))
        with torch.inference_mode():
            print(torch.is_grad_enabled())
        import deepcore
        print(deepcore.nn.__spec__.name, deepcore.backends.cudnn.benchmark)
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["handled", "False None True", "True False False", "+1.50 [1, 1] 2",
                                          "False", "deepcore.nn True"]


def test_backends_submodules_import_as_modules(tmp_path):
    # dcgan/main.py: `import torch.backends.cudnn as cudnn`, then `cudnn.benchmark = True`.
    result = run_script(tmp_path, """
        import torch.backends.cudnn as cudnn
        from torch.backends import mps
        import torch.backends.cpu
        cudnn.benchmark = True
        import torch
        print(torch.backends.cudnn.benchmark, mps.is_available(), torch.backends.cpu.get_cpu_capability() != "")
        """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True"]


def test_keras_and_tf_keras_scripts_run_unchanged(tmp_path):
    result = run_script(tmp_path, """
        import numpy as np
        import keras
        from keras import layers
        from tensorflow import keras as tf_keras
        import tensorflow as tf

        assert tf_keras is tf.keras and keras.layers is layers
        rng = np.random.default_rng(0)
        x = rng.normal(size=(512, 4)).astype("float32")
        y = (x.sum(1) > 0).astype("float32")
        model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                                  layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=30, batch_size=32, verbose=0)
        print(round(model.evaluate(x, y, verbose=0)[1], 2))
        """)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[-1]) > 0.8


def test_verbose_prints_the_mapping_once_and_each_import(tmp_path):
    result = run_script(tmp_path, "import torch.nn\nimport torch.nn\nprint('ok')\n", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr.count("deepcore.run maps these imports:") == 1
    assert "torch.utils.data   -> deepcore.data" in result.stderr
    assert result.stderr.count("import torch.nn -> deepcore.nn") == 1


def test_exit_codes_and_a_missing_script(tmp_path):
    assert run_script(tmp_path, "import sys\nsys.exit(3)\n").returncode == 3
    assert run_script(tmp_path, "raise SystemExit('bye')\n").returncode == 1
    result = subprocess.run([sys.executable, "-m", "deepcore.run", str(tmp_path / "nope.py")], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_an_error_inside_the_script_keeps_its_traceback(tmp_path):
    result = run_script(tmp_path, "import torch\ntorch.zeros(2, 3) @ torch.zeros(2, 3)\n")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "matmul" in result.stderr


def test_the_console_script(tmp_path):
    exe = shutil.which("deepcore-run")
    if exe is None:
        pytest.skip("deepcore-run is not on PATH (installed by `pip install .`)")
    result = run_script(tmp_path, "import torch\nprint(torch.ones(3).sum().item())\n", runner=(exe,))
    assert result.returncode == 0 and result.stdout.strip() == "3.0", result.stderr
