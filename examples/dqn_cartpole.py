"""The lecture's Deep Q Network slides, on deepcore: a network learns Q(s, a) from played episodes,
trained with experience replay, a target network (Mnih et al. 2015) and Double DQN's target (van Hasselt
et al. 2016), with a Huber loss and clipped gradients, on CartPole: keep a pole
upright on a cart by pushing it left or right; +1 per step, at most 500.

The environment is gymnasium's CartPole-v1 when gymnasium is installed (pip install gymnasium),
else the same dynamics written out below (Barto, Sutton & Anderson 1983, with gymnasium's
constants and limits). The lecture's own example, Breakout from pixels, needs tens of millions of
frames (examples/dqn_breakout.py); CartPole shows the same algorithm in minutes.

The defaults are rl-baselines3-zoo's tuned DQN settings for CartPole-v1 (read, not copied: a
256-256 network, Adam 2.3e-3, epsilon 1 -> 0.04 over 8000 steps, and learning in phases: every 256
environment steps, 128 minibatch updates against a target network frozen during the phase). One
update per step against a target copied every 500 steps (--train-every 1 --gradient-steps 1
--target-every 500) also learns, but its greedy policy rose to about 350 and then fell back to
about 100 for tens of thousands of steps (seed 0, 64-64 network, Adam 5e-4).

Every --eval-every steps it plays 10 greedy episodes; when those average 475 or more it plays 100,
and stops as solved when the 100 average 475 or more (CartPole-v1's threshold), printing the number
of environment steps taken. Saves dqn_cartpole.png (returns per training episode).

    python examples/dqn_cartpole.py [--steps 60000] [--seed 0] [--env auto|builtin|gymnasium]
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


def q_network(hidden):
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def greedy_action(net, state):
    with dc.no_grad():
        return int(net(dc.tensor([state], dtype=dc.float32)).argmax(1).item())


def greedy_returns(env, net, episodes):
    """Returns of `episodes` greedy episodes (no exploration, no learning)."""
    returns = []
    for _ in range(episodes):
        state, total, done = env.reset(), 0.0, False
        while not done:
            state, reward, terminated, truncated = env.step(greedy_action(net, state))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    return returns


def learn(online, target, opt, batch, gamma, clip):
    s, a, r, s_next, end = batch
    with dc.no_grad():  # Double DQN: the online net picks the next action, the slow target net values it
        best_next = online(s_next).argmax(1)
        next_value = (target(s_next) * F.one_hot(best_next, 2).float()).sum(1)
        q_target = r + gamma * (1.0 - end) * next_value
    chosen = (online(s) * F.one_hot(a, 2).float()).sum(1)  # Q(s, a) of the actions taken
    loss = F.smooth_l1_loss(chosen, q_target)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online.parameters(), clip)
    opt.step()


SOLVED = 475.0  # CartPole-v1's threshold: this mean return over 100 consecutive episodes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60000, help="most environment steps to train for")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", choices=["auto", "builtin", "gymnasium"], default="auto")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--lr", type=float, default=2.3e-3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1000, help="random steps before learning starts")
    parser.add_argument("--explore-steps", type=int, default=8000, help="steps over which epsilon falls 1 -> final")
    parser.add_argument("--final-epsilon", type=float, default=0.04)
    parser.add_argument("--train-every", type=int, default=256, help="environment steps between training phases")
    parser.add_argument("--gradient-steps", type=int, default=128, help="minibatch updates per training phase")
    parser.add_argument("--replay", type=int, default=100000, help="replay memory capacity (transitions)")
    parser.add_argument("--hidden", type=int, default=256, help="units in each of the two hidden layers")
    parser.add_argument("--target-every", type=int, default=10, help="environment steps between target-network copies")
    parser.add_argument("--tau", type=float, default=0.0,
                        help="Polyak averaging: target += tau (online - target) every step instead of copies (0: copies)")
    parser.add_argument("--clip", type=float, default=10.0, help="gradient-norm clip")
    parser.add_argument("--eval-every", type=int, default=1024, help="steps between greedy checks of 10 episodes")
    parser.add_argument("--test-episodes", type=int, default=100, help="greedy episodes of the final test")
    parser.add_argument("--checkpoint", default="", help="save the best network here (safetensors)")
    args = parser.parse_args()
    for name in ("steps", "batch", "hidden", "explore_steps", "train_every", "gradient_steps", "replay", "target_every",
                 "eval_every", "test_episodes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not 0.0 <= args.tau <= 1.0:
        parser.error(f"--tau must be in [0, 1], got {args.tau}")
    if not 0.0 <= args.final_epsilon <= 1.0:
        parser.error(f"--final-epsilon must be in [0, 1], got {args.final_epsilon}")
    dc.manual_seed(args.seed)
    rng, np_rng = random.Random(args.seed), np.random.default_rng(args.seed)
    env, env_name = make_env(args.env, args.seed)
    eval_env, _ = make_env(args.env, args.seed + 10000)  # its own episodes: training's stay in order
    print("environment:", env_name)

    online, target = q_network(args.hidden), q_network(args.hidden)
    target.load_state_dict(online.state_dict())
    opt = optim.Adam(online.parameters(), lr=args.lr)
    replay = Replay(args.replay)
    returns, ends, checks, episode_return, state = [], [], [], 0.0, env.reset()
    best_mean, best_state, solved_at, final = -1.0, None, None, None
    for step in range(args.steps):
        epsilon = max(args.final_epsilon, 1.0 - step / args.explore_steps)  # from random play to a few random moves
        action = rng.randrange(2) if step < args.warmup or rng.random() < epsilon else greedy_action(online, state)
        next_state, reward, terminated, truncated = env.step(action)
        replay.add(state, action, reward, next_state, terminated)  # a truncated episode is not an end state
        state, episode_return = next_state, episode_return + reward
        if terminated or truncated:
            returns.append(episode_return)
            ends.append(step + 1)
            if len(returns) % 20 == 0:
                print(f"step {step + 1:6d}: episode {len(returns):4d}, mean return of the last 20: "
                      f"{sum(returns[-20:]) / 20:6.1f} (epsilon {epsilon:.2f})", flush=True)
            state, episode_return = env.reset(), 0.0
        if step >= args.warmup:
            if (step + 1) % args.train_every == 0:
                for _ in range(args.gradient_steps):
                    learn(online, target, opt, replay.sample(args.batch, np_rng), args.gamma, args.clip)
                    if args.tau > 0:  # a slowly moving target: no jump in the Bellman targets at a copy
                        with dc.no_grad():
                            for p_target, p_online in zip(target.parameters(), online.parameters()):
                                p_target.lerp_(p_online, args.tau)
            if args.tau == 0 and (step + 1) % args.target_every == 0:
                target.load_state_dict(online.state_dict())
        if step >= args.warmup and (step + 1) % args.eval_every == 0:
            quick = sum(greedy_returns(eval_env, online, 10)) / 10
            checks.append((step + 1, quick))
            if quick >= best_mean:  # keep the best greedy network: DQN's greedy policy can forget
                best_mean, best_state = quick, {k: v.clone() for k, v in online.state_dict().items()}
                if args.checkpoint:
                    dc.save(best_state, args.checkpoint)
            print(f"step {step + 1:6d}: greedy check, mean of 10 episodes {quick:.1f} (best {best_mean:.1f})", flush=True)
            if quick >= SOLVED:  # a candidate: the full 100-episode test decides
                final = greedy_returns(eval_env, online, args.test_episodes)
                print(f"step {step + 1:6d}: {args.test_episodes} greedy episodes, mean return "
                      f"{sum(final) / len(final):.1f}", flush=True)
                if sum(final) / len(final) >= SOLVED:
                    solved_at = step + 1
                    break
                final = None

    if final is None:  # not solved during training: test the best network seen
        if best_state is not None:
            online.load_state_dict(best_state)
        final = greedy_returns(eval_env, online, args.test_episodes)
    mean = sum(final) / len(final)
    if solved_at is not None:
        print(f"solved after {solved_at} environment steps: mean return {mean:.1f} over {len(final)} greedy "
              f"episodes (>= {SOLVED:.0f}; random play: about 22)")
    else:
        print(f"not solved in {args.steps} environment steps: best network's mean return {mean:.1f} over "
              f"{len(final)} greedy episodes (solved: >= {SOLVED:.0f}; random play: about 22)")

    try:
        import headless_pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(ends, returns, lw=0.8, label=f"training episodes (epsilon-greedy, final {args.final_epsilon})")
    if checks:
        ax.plot(*zip(*checks), "o-", ms=3, lw=0.8, label="greedy checks (mean of 10 episodes)")
    ax.axhline(SOLVED, color="grey", ls="--", lw=0.8, label="solved (100-episode mean)")
    ax.set_xlabel("environment step")
    ax.set_ylabel("return")
    ax.set_title(f"DQN on {env_name}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(plt.figure_path("dqn_cartpole.png"), dpi=100)
    print("saved", plt.figure_path("dqn_cartpole.png"))


if __name__ == "__main__":
    main()
