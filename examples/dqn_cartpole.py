"""The lecture's Deep Q Network slides, on deepcore: a network learns Q(s, a) from played episodes,
trained with experience replay (and a target network, Mnih et al. 2015), on CartPole: keep a pole
upright on a cart by pushing it left or right; +1 per step, at most 500.

The environment is gymnasium's CartPole-v1 when gymnasium is installed (pip install gymnasium),
else the same dynamics written out below (Barto, Sutton & Anderson 1983, with gymnasium's
constants and limits). The lecture's own example, Breakout from pixels, needs tens of millions of
frames; CartPole shows the same algorithm in a minute. Prints the mean return of recent episodes
as it learns and of greedy test episodes at the end; saves dqn_cartpole.png (returns per episode).

    python examples/dqn_cartpole.py [--steps 30000] [--seed 0] [--env auto|builtin|gymnasium]
"""
import argparse
import math
import random

import numpy as np

import deepcore as dc
import deepcore.nn as nn
import deepcore.nn.functional as F
import deepcore.optim as optim


class CartPole:
    """CartPole-v1's equations of motion (Euler steps of 0.02 s) and its end conditions: the pole
    beyond 12 degrees or the cart beyond 2.4 m ends the episode; 500 steps truncate it."""
    gravity, cart_mass, pole_mass, half_length, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_limit, x_limit, max_steps = 12 * 2 * math.pi / 360, 2.4, 500

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def reset(self):
        self.state = [self.rng.uniform(-0.05, 0.05) for _ in range(4)]
        self.steps = 0
        return list(self.state)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force if action == 1 else -self.force
        cos, sin = math.cos(theta), math.sin(theta)
        total_mass, pole_moment = self.cart_mass + self.pole_mass, self.pole_mass * self.half_length
        temp = (force + pole_moment * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.half_length * (4.0 / 3.0 - self.pole_mass * cos ** 2 / total_mass))
        x_acc = temp - pole_moment * theta_acc * cos / total_mass
        self.state = [x + self.tau * x_dot, x_dot + self.tau * x_acc, theta + self.tau * theta_dot,
                      theta_dot + self.tau * theta_acc]
        self.steps += 1
        terminated = abs(self.state[0]) > self.x_limit or abs(self.state[2]) > self.theta_limit
        return list(self.state), 1.0, terminated, self.steps >= self.max_steps


class GymCartPole:
    def __init__(self, seed):
        import gymnasium
        self.env, self.seed = gymnasium.make("CartPole-v1"), seed

    def reset(self):
        state, _ = self.env.reset(seed=self.seed)
        self.seed = None  # seeded once; later episodes continue its random stream
        return list(state)

    def step(self, action):
        state, reward, terminated, truncated, _ = self.env.step(action)
        return list(state), float(reward), terminated, truncated


def make_env(kind, seed):
    if kind in ("auto", "gymnasium"):
        try:
            return GymCartPole(seed), "gymnasium CartPole-v1"
        except ImportError:
            if kind == "gymnasium":
                raise SystemExit("gymnasium is not installed: pip install gymnasium (or use --env builtin)")
    return CartPole(seed), "built-in CartPole (CartPole-v1's dynamics)"


class Replay:
    """A ring buffer of transitions (NumPy storage: interchange only, no arithmetic)."""

    def __init__(self, size):
        self.states, self.next_states = np.zeros((size, 4), np.float32), np.zeros((size, 4), np.float32)
        self.actions, self.rewards = np.zeros(size, np.int64), np.zeros(size, np.float32)
        self.ends = np.zeros(size, np.float32)
        self.size, self.count, self.at = size, 0, 0

    def add(self, state, action, reward, next_state, terminated):
        i = self.at
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.ends[i] = next_state, float(terminated)
        self.at, self.count = (i + 1) % self.size, min(self.count + 1, self.size)

    def sample(self, batch, rng):
        idx = rng.integers(0, self.count, batch)
        return (dc.from_numpy(self.states[idx]), dc.from_numpy(self.actions[idx]),
                dc.from_numpy(self.rewards[idx]), dc.from_numpy(self.next_states[idx]), dc.from_numpy(self.ends[idx]))


def q_network():
    return nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))


def greedy_action(net, state):
    with dc.no_grad():
        return int(net(dc.tensor([state], dtype=dc.float32)).argmax(1).item())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", choices=["auto", "builtin", "gymnasium"], default="auto")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1000, help="random steps before learning starts")
    parser.add_argument("--target-every", type=int, default=500, help="steps between target-network copies")
    parser.add_argument("--test-episodes", type=int, default=10)
    args = parser.parse_args()
    dc.manual_seed(args.seed)
    rng, np_rng = random.Random(args.seed), np.random.default_rng(args.seed)
    env, env_name = make_env(args.env, args.seed)
    print("environment:", env_name)

    online, target = q_network(), q_network()
    target.load_state_dict(online.state_dict())
    opt = optim.Adam(online.parameters(), lr=1e-3)
    replay = Replay(50000)
    returns, episode_return, state = [], 0.0, env.reset()
    explore_steps = max(1, args.steps // 3)
    for step in range(args.steps):
        epsilon = max(0.05, 1.0 - step / explore_steps)  # from random play to 5 % random moves
        action = rng.randrange(2) if step < args.warmup or rng.random() < epsilon else greedy_action(online, state)
        next_state, reward, terminated, truncated = env.step(action)
        replay.add(state, action, reward, next_state, terminated)  # a truncated episode is not an end state
        state, episode_return = next_state, episode_return + reward
        if terminated or truncated:
            returns.append(episode_return)
            if len(returns) % 20 == 0:
                print(f"step {step + 1:6d}: episode {len(returns):4d}, mean return of the last 20: "
                      f"{sum(returns[-20:]) / 20:6.1f} (epsilon {epsilon:.2f})", flush=True)
            state, episode_return = env.reset(), 0.0
        if step >= args.warmup:
            s, a, r, s_next, end = replay.sample(args.batch, np_rng)
            with dc.no_grad():  # the Bellman target, from the slowly updated copy
                q_target = r + args.gamma * (1.0 - end) * target(s_next).amax(1)
            chosen = (online(s) * F.one_hot(a, 2).float()).sum(1)  # Q(s, a) of the actions taken
            loss = F.smooth_l1_loss(chosen, q_target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if (step + 1) % args.target_every == 0:
                target.load_state_dict(online.state_dict())

    test = []
    for _ in range(args.test_episodes):
        state, total, done = env.reset(), 0.0, False
        while not done:
            state, reward, terminated, truncated = env.step(greedy_action(online, state))
            total, done = total + reward, terminated or truncated
        test.append(total)
    print(f"greedy test episodes: mean return {sum(test) / len(test):.1f} (max 500; random play: about 22)")

    try:
        import headless_pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(returns, lw=0.8)
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(f"DQN on {env_name}")
    fig.tight_layout()
    fig.savefig(plt.figure_path("dqn_cartpole.png"), dpi=100)
    print("saved", plt.figure_path("dqn_cartpole.png"))


if __name__ == "__main__":
    main()
