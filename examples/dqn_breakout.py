"""The lecture's DQN slide game: Breakout from pixels (gymnasium's ALE/Breakout-v5), on deepcore,
with the pre-processing and the network of Mnih et al. 2015 ("Human-level control through deep
reinforcement learning"): each action repeated for 4 frames, the maximum of the last two frames
(the Atari flickers), grey 84x84, a stack of the last 4 such frames as the state, rewards clipped to
their sign; the CNN 32 8x8/4, 64 4x4/2, 64 3x3/1, dense 512. The agent is dqn_cartpole.py's:
Double DQN, Huber loss, target network, gradient clipping, a decaying epsilon.

Two usual helps for short budgets (as in OpenAI baselines' Atari wrappers): a lost life ends the
episode for the learner (not for the game), and FIRE is pressed after a reset or a lost life so that
the ball is served. ALE-v5's sticky actions (25 %) stay on.

The replay memory keeps each 84x84 frame once, as uint8 (7 KB a step), and rebuilds the 4-frame
stacks when it samples. Checkpoints are safetensors files (deepcore.save): the online and target
networks, the optimizer state and the step counter; --resume continues from one (the replay memory
is not saved, 700 MB of frames: it is refilled by --warmup steps of the restored policy).

    pip install ".[rl]"   # gymnasium + ale-py (the Breakout ROM ships in the ale-py wheel)
    python examples/dqn_breakout.py [--steps 200000] [--minutes 60] [--checkpoint dqn_breakout.safetensors] [--resume]
"""
import argparse
import collections
import os
import random
import time

import numpy as np

import deepcore as dc
import deepcore.nn as nn
import deepcore.nn.functional as F
import deepcore.optim as optim

FRAME = 84
STACK = 4


def preprocess(frame_a, frame_b):
    """Two consecutive greyscale frames (210x160 uint8) -> one 84x84 uint8 frame: their pixel-wise
    maximum (sprites drawn every other frame are then always seen), resized bilinearly."""
    from PIL import Image
    both = np.maximum(frame_a, frame_b)
    return np.asarray(Image.fromarray(both).resize((FRAME, FRAME), Image.BILINEAR), dtype=np.uint8)


def clip_reward(reward):
    """Mnih et al.'s reward clipping: only the sign of a score change is learnt from."""
    return float(np.sign(reward))


class FrameStack:
    """The last STACK frames, oldest first; a new episode starts from black frames."""

    def __init__(self):
        self.frames = collections.deque([np.zeros((FRAME, FRAME), np.uint8)] * STACK, maxlen=STACK)

    def reset(self, frame):
        for _ in range(STACK):
            self.frames.append(np.zeros((FRAME, FRAME), np.uint8))
        self.frames.append(frame)

    def push(self, frame):
        self.frames.append(frame)

    def state(self):
        return np.stack(self.frames)  # (STACK, 84, 84) uint8, newest last


class AtariBreakout:
    """ALE/Breakout-v5 with frame skip 1 underneath, so that the skip of 4 and the max of the last two
    frames are done here. step() returns (84x84 frame, clipped reward, raw reward, life lost, game over)."""

    def __init__(self, seed, skip=4):
        import ale_py
        import gymnasium
        gymnasium.register_envs(ale_py)
        self.env = gymnasium.make("ALE/Breakout-v5", obs_type="grayscale", frameskip=1)
        self.skip, self.seed = skip, seed
        self.actions = self.env.unwrapped.get_action_meanings()
        self.fire = self.actions.index("FIRE")

    def reset(self):
        obs, info = self.env.reset(seed=self.seed)
        self.seed = None  # seeded once; later games continue its random stream
        self.lives = info["lives"]
        frame, _, _, _, _ = self.step(self.fire)  # serve the ball
        return frame

    def step(self, action):
        total, last, previous, life_lost, game_over = 0.0, None, None, False, False
        for _ in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            previous, last, total = last, obs, total + reward
            if terminated or truncated:
                game_over = True
                break
        life_lost = info["lives"] < self.lives
        self.lives = info["lives"]
        frame = preprocess(previous if previous is not None else last, last)
        if life_lost and not game_over:
            frame, more, _, _, over = self.step(self.fire)  # serve again; the learner sees an end
            total, game_over = total + more, over
        return frame, clip_reward(total), total, life_lost, game_over


class FrameReplay:
    """A ring buffer of single uint8 frames with the action taken, the clipped reward and whether the
    step ended the learner's episode. Frame j is the newest frame of state j; state j+1's newest frame
    is frame j+1, so each frame is kept once. Stacks are rebuilt at sampling; frames of an earlier
    episode in a stack are shown black, as FrameStack does at a reset."""

    def __init__(self, capacity):
        self.frames = np.zeros((capacity, FRAME, FRAME), np.uint8)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.ends = np.zeros(capacity, np.float32)
        self.episode = np.zeros(capacity, np.int64)  # which learner episode each frame belongs to
        self.capacity, self.count, self.at, self.episode_id = capacity, 0, 0, 0

    def add(self, frame, action, reward, end):
        """frame: the newest frame of the state the action was taken in."""
        i = self.at
        self.frames[i], self.actions[i], self.rewards[i], self.ends[i] = frame, action, reward, float(end)
        self.episode[i] = self.episode_id
        if end:
            self.episode_id += 1
        self.at, self.count = (i + 1) % self.capacity, min(self.count + 1, self.capacity)

    def _stacks(self, newest):
        """(batch, STACK, 84, 84) uint8 of the states whose newest frames are at `newest` (physical)."""
        offsets = np.arange(-STACK + 1, 1)
        idx = (newest[:, None] + offsets[None, :]) % self.capacity
        same = self.episode[idx] == self.episode[newest][:, None]
        return self.frames[idx] * same[:, :, None, None].astype(np.uint8)

    def sample(self, batch, rng):
        oldest = self.at if self.count == self.capacity else 0
        # logical positions: STACK-1 frames of history before, one frame (the next state's) after
        logical = rng.integers(STACK - 1, self.count - 1, batch)
        j = (oldest + logical) % self.capacity
        after = (j + 1) % self.capacity
        return self._stacks(j), self.actions[j], self.rewards[j], self._stacks(after), self.ends[j]


class NatureQNetwork(nn.Module):
    """Mnih et al. 2015's network: 4x84x84 uint8 pixels in, one Q value per action out."""

    def __init__(self, n_actions):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(STACK, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.Linear(512, n_actions))

    def forward(self, pixels):
        return self.head(self.features(pixels * (1.0 / 255.0)))


def to_tensor(stacks):
    return dc.from_numpy(stacks.astype(np.float32))  # deepcore holds no uint8: a dtype change, no arithmetic


def act(net, state, epsilon, n_actions, rng):
    if rng.random() < epsilon:
        return rng.randrange(n_actions)
    with dc.no_grad():
        return int(net(to_tensor(state[None])).argmax(1).item())


def learn(online, target, opt, batch, gamma, clip):
    s, a, r, s_next, end = (dc.from_numpy(x) if x.dtype != np.uint8 else to_tensor(x) for x in batch)
    with dc.no_grad():  # Double DQN: the online net picks the next action, the target net values it
        best_next = online(s_next).argmax(1)
        n_actions = target.head[-1].out_features
        next_value = (target(s_next) * F.one_hot(best_next, n_actions).float()).sum(1)
        q_target = r + gamma * (1.0 - end) * next_value
    chosen = (online(s) * F.one_hot(a, n_actions).float()).sum(1)
    loss = F.smooth_l1_loss(chosen, q_target)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online.parameters(), clip)
    opt.step()
    return loss.item()


def save_checkpoint(path, online, target, opt, step, episodes):
    dc.save({"online": online.state_dict(), "target": target.state_dict(), "optimizer": opt.state_dict(),
             "step": step, "episodes": episodes}, path)


def evaluate(env, net, episodes, epsilon, n_actions, rng):
    """Mean game score (unclipped, all 5 lives) over `episodes` games with epsilon-greedy play;
    net=None plays uniformly at random."""
    scores = []
    for _ in range(episodes):
        stack = FrameStack()
        stack.reset(env.reset())
        score, over = 0.0, False
        while not over:
            action = rng.randrange(n_actions) if net is None else act(net, stack.state(), epsilon, n_actions, rng)
            frame, _, raw, life_lost, over = env.step(action)
            score += raw
            if life_lost:
                stack.reset(frame)
            else:
                stack.push(frame)
        scores.append(score)
    return sum(scores) / len(scores), scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200000, help="agent steps (4 frames each) to train for")
    parser.add_argument("--minutes", type=float, default=0.0, help="stop training after this wall time (0: no limit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replay", type=int, default=100000, help="replay capacity in steps (7 KB each)")
    parser.add_argument("--warmup", type=int, default=5000, help="steps before learning starts")
    parser.add_argument("--explore-steps", type=int, default=50000, help="steps over which epsilon falls 1 -> final")
    parser.add_argument("--final-epsilon", type=float, default=0.05)
    parser.add_argument("--train-every", type=int, default=4)
    parser.add_argument("--target-every", type=int, default=2000, help="steps between target-network copies")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--clip", type=float, default=10.0, help="gradient-norm clip")
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--eval-epsilon", type=float, default=0.05, help="Mnih et al. evaluate with 5 %% random moves")
    parser.add_argument("--checkpoint", default="dqn_breakout.safetensors")
    parser.add_argument("--checkpoint-every", type=int, default=10000)
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: play --eval-episodes games with --checkpoint's network and at random")
    args = parser.parse_args()
    for name in ("steps", "replay", "batch", "train_every", "target_every", "checkpoint_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.warmup < args.batch + STACK:
        parser.error(f"--warmup ({args.warmup}) must exceed --batch + {STACK} so that a batch can be sampled")

    dc.manual_seed(args.seed)
    rng, np_rng = random.Random(args.seed), np.random.default_rng(args.seed)
    try:
        env = AtariBreakout(args.seed)
    except ImportError:
        raise SystemExit("gymnasium and ale-py are needed: pip install '.[rl]'")
    n_actions = len(env.actions)
    print(f"ALE/Breakout-v5: actions {env.actions}")

    online, target = NatureQNetwork(n_actions), NatureQNetwork(n_actions)
    target.load_state_dict(online.state_dict())
    opt = optim.Adam(online.parameters(), lr=args.lr, eps=1.5e-4)
    step, episodes = 0, 0
    if args.resume or args.evaluate_only:
        if not os.path.exists(args.checkpoint):
            raise SystemExit(f"--{'resume' if args.resume else 'evaluate-only'}: no checkpoint at {args.checkpoint}")
        saved = dc.load(args.checkpoint)
        online.load_state_dict(saved["online"])
        target.load_state_dict(saved["target"])
        opt.load_state_dict(saved["optimizer"])
        step, episodes = int(saved["step"]), int(saved["episodes"])
        print(f"{'resumed from' if args.resume else 'loaded'} {args.checkpoint} at step {step} ({episodes} games)")

    replay = FrameReplay(args.replay)
    stack = FrameStack()
    stack.reset(env.reset())
    refill_until = step + args.warmup  # learning (re)starts once the replay holds warmup steps
    game_score, scores, losses = 0.0, [], []
    start, last_report, first_step = time.time(), time.time(), step
    while step < args.steps and not args.evaluate_only:
        if args.minutes and time.time() - start > args.minutes * 60:
            print(f"wall-clock budget of {args.minutes} min reached at step {step}")
            break
        epsilon = max(args.final_epsilon, 1.0 - step / args.explore_steps * (1.0 - args.final_epsilon))
        state = stack.state()
        action = rng.randrange(n_actions) if step < args.warmup else act(online, state, epsilon, n_actions, rng)
        frame, reward, raw, life_lost, over = env.step(action)
        replay.add(state[-1], action, reward, life_lost or over)
        game_score += raw
        step += 1
        if life_lost or over:
            stack.reset(frame)  # its frame is stored with the next step's transition
        else:
            stack.push(frame)
        if over:
            scores.append(game_score)
            episodes += 1
            game_score = 0.0
            stack.reset(env.reset())
        if step >= refill_until and step % args.train_every == 0:
            losses.append(learn(online, target, opt, replay.sample(args.batch, np_rng), args.gamma, args.clip))
        if step % args.target_every == 0:
            target.load_state_dict(online.state_dict())
        if step % args.checkpoint_every == 0:
            save_checkpoint(args.checkpoint, online, target, opt, step, episodes)
        if time.time() - last_report > 60 or step == args.steps:
            recent = scores[-20:]
            mean = f"{sum(recent) / len(recent):.2f}" if recent else "-"
            loss = f"{sum(losses[-200:]) / len(losses[-200:]):.4f}" if losses else "-"
            print(f"step {step:7d} (frames {4 * step}): games {episodes}, mean score of the last 20: {mean}, "
                  f"loss {loss}, epsilon {epsilon:.2f}, {(step - first_step) / (time.time() - start):.1f} steps/s", flush=True)
            last_report = time.time()
    if not args.evaluate_only:
        elapsed = time.time() - start
        save_checkpoint(args.checkpoint, online, target, opt, step, episodes)
        print(f"trained to step {step} (frames {4 * step}) in {elapsed / 60:.1f} min; saved {args.checkpoint}")

    if args.eval_episodes > 0:
        agent_mean, agent_scores = evaluate(env, online, args.eval_episodes, args.eval_epsilon, n_actions, rng)
        random_mean, random_scores = evaluate(env, None, args.eval_episodes, 1.0, n_actions, rng)
        print(f"evaluation over {args.eval_episodes} games: agent mean score {agent_mean:.2f} "
              f"(epsilon {args.eval_epsilon}), random policy mean score {random_mean:.2f}")
        print("agent scores:", [int(s) for s in agent_scores])
        print("random scores:", [int(s) for s in random_scores])

    try:
        import headless_pyplot as plt
    except ImportError:
        return
    if scores:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(scores, lw=0.8)
        ax.set_xlabel("game")
        ax.set_ylabel("score")
        ax.set_title("DQN on ALE/Breakout-v5 (training games)")
        fig.tight_layout()
        fig.savefig(plt.figure_path("dqn_breakout.png"), dpi=100)
        print("saved", plt.figure_path("dqn_breakout.png"))


if __name__ == "__main__":
    main()
