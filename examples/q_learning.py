"""The lecture's Q-learning slide: Q(s, a) <- Q(s, a) + alpha (r + gamma max_a' Q(s', a') - Q(s, a)),
"no neural network yet: a table of states vs actions".

The environment is a 4x4 frozen lake (gymnasium's FrozenLake map, made deterministic): start at S,
reach the goal G (reward 1) without falling into a hole H (the episode ends with nothing). The
agent explores epsilon-greedily; the script prints the learned greedy policy as arrows, its
success rate, and the table's value of the start state against the true optimum gamma^5.

    python examples/q_learning.py [--episodes 2000] [--seed 0]
"""
import argparse
import random

LAKE = ["SFFF",
        "FHFH",
        "FFFH",
        "HFFG"]
MOVES = [(0, -1), (1, 0), (0, 1), (-1, 0)]  # left, down, right, up (gymnasium's action order)
ARROWS = "<v>^"


def step(state, action):
    """(next state, reward, episode over) on the deterministic lake."""
    row, col = divmod(state, 4)
    d_row, d_col = MOVES[action]
    row, col = min(max(row + d_row, 0), 3), min(max(col + d_col, 0), 3)
    cell = LAKE[row][col]
    return row * 4 + col, float(cell == "G"), cell in "GH"


def greedy(q_row, rng):
    best = max(q_row)
    return rng.choice([a for a, v in enumerate(q_row) if v == best])  # ties broken at random


def train(episodes, alpha, gamma, rng):
    q = [[0.0] * 4 for _ in range(16)]
    for episode in range(episodes):
        epsilon = max(0.05, 1.0 - episode / (0.5 * episodes))  # explore a lot at first
        state, done, steps = 0, False, 0
        while not done and steps < 100:
            action = rng.randrange(4) if rng.random() < epsilon else greedy(q[state], rng)
            nxt, reward, done = step(state, action)
            target = reward if done else reward + gamma * max(q[nxt])  # the Bellman equation
            q[state][action] += alpha * (target - q[state][action])
            state, steps = nxt, steps + 1
    return q


def evaluate(q, rng, episodes=100):
    wins = 0
    for _ in range(episodes):
        state, done, steps = 0, False, 0
        while not done and steps < 100:
            state, reward, done = step(state, greedy(q[state], rng))
            steps += 1
        wins += reward == 1.0
    return wins / episodes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--gamma", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    q = train(args.episodes, args.alpha, args.gamma, rng)
    print("greedy policy (S start, G goal, H hole):")
    for row in range(4):
        cells = []
        for col in range(4):
            values = q[row * 4 + col]
            cells.append(LAKE[row][col] if LAKE[row][col] in "GH" else ARROWS[values.index(max(values))])
        print("  " + " ".join(cells))
    print(f"max Q(start) = {max(q[0]):.4f} (optimum: gamma^5 = {args.gamma ** 5:.4f}, the shortest path has 6 moves)")
    print(f"greedy success rate: {evaluate(q, rng):.2f}")


if __name__ == "__main__":
    main()
