"""The lecture's Boltzmann-machine slide, on deepcore: a restricted Boltzmann machine with 6
visible units (movies people want to watch) and 2 hidden units (latent factors), trained by
contrastive divergence (CD-1) on the slide's example, Edwin Chen's six viewers.

The two hidden units come to stand for the two kinds of film in the data, SF/fantasy (Harry
Potter, Avatar, LOTR 3) and Oscar winners (Gladiator, Titanic, LOTR 3): the script prints the
weights, which unit a new viewer who likes Gladiator and Titanic switches on, and the movies each
unit, switched on alone, makes the machine want to watch. Saves rbm_movies.png (the weights).

    python examples/rbm_movies.py [--epochs 5000] [--seed 0]
"""
import argparse

import deepcore as dc

MOVIES = ["Harry Potter", "Avatar", "LOTR 3", "Gladiator", "Titanic", "Glitter"]
VIEWERS = {  # 1: wants to watch it (Edwin Chen, "Introduction to Restricted Boltzmann Machines", 2011)
    "Alice": [1, 1, 1, 0, 0, 0], "Bob": [1, 0, 1, 0, 0, 0], "Carol": [1, 1, 1, 0, 0, 0],
    "David": [0, 0, 1, 1, 1, 0], "Eric": [0, 0, 1, 1, 0, 0], "Fred": [0, 0, 1, 1, 1, 0],
}


class RBM:
    """Binary units; p(h = 1 | v) = sigmoid(v W + b_h), p(v = 1 | h) = sigmoid(h W^T + b_v)."""

    def __init__(self, visible, hidden):
        self.w = dc.randn(visible, hidden) * 0.1
        self.b_visible, self.b_hidden = dc.zeros(visible), dc.zeros(hidden)

    def hidden_probs(self, v):
        return dc.sigmoid(v @ self.w + self.b_hidden)

    def visible_probs(self, h):
        return dc.sigmoid(h @ self.w.T + self.b_visible)

    def cd1(self, v, lr):
        """One contrastive-divergence step: data statistics minus one-step reconstruction statistics.
        Returns the reconstruction error (mean squared)."""
        h_probs = self.hidden_probs(v)
        h_states = (h_probs > dc.rand(*h_probs.shape)).float()  # the stochastic part
        v_recon = self.visible_probs(h_states)
        h_recon = self.hidden_probs(v_recon)
        n = v.shape[0]
        self.w += lr * (v.T @ h_probs - v_recon.T @ h_recon) / n
        self.b_visible += lr * (v - v_recon).mean(0)
        self.b_hidden += lr * (h_probs - h_recon).mean(0)
        return ((v - v_recon) ** 2).mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dc.manual_seed(args.seed)

    data = dc.tensor(list(VIEWERS.values()), dtype=dc.float32)
    rbm = RBM(len(MOVIES), 2)
    for epoch in range(args.epochs):
        error = rbm.cd1(data, args.lr)
        if epoch % max(1, args.epochs // 5) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:5d}: reconstruction error {error:.4f}")

    w = rbm.w.numpy()
    print("\nweights (movie x hidden unit):")
    for movie, row in zip(MOVIES, w):
        print(f"  {movie:13s} " + " ".join(f"{x:+6.2f}" for x in row))
    sf_unit = int(w[MOVIES.index("Harry Potter")].argmax())
    oscar_unit = int(w[MOVIES.index("Gladiator")].argmax())
    print(f"SF/fantasy unit: {sf_unit}, Oscar-winners unit: {oscar_unit}")

    george = dc.tensor([[0, 0, 0, 1, 1, 0]], dtype=dc.float32)  # likes Gladiator and Titanic
    p = rbm.hidden_probs(george).numpy()[0]
    print(f"George (Gladiator, Titanic): p(hidden on) = {p[0]:.3f}, {p[1]:.3f} -> unit {int(p.argmax())} "
          f"({'Oscar winners' if p.argmax() == oscar_unit else 'SF/fantasy'})")
    for unit in range(2):
        h = dc.zeros(1, 2)
        h[0, unit] = 1.0
        probs = rbm.visible_probs(h).numpy()[0]
        liked = [m for m, q in zip(MOVIES, probs) if q > 0.5]
        print(f"hidden unit {unit} alone: wants to watch {', '.join(liked) or 'nothing'}")

    try:
        import headless_pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no figure)")
        return
    fig, ax = plt.subplots(figsize=(4, 4))
    image = ax.imshow(w, cmap="coolwarm", vmin=-abs(w).max(), vmax=abs(w).max())
    ax.set_yticks(range(len(MOVIES)), MOVIES)
    ax.set_xticks([0, 1], [f"unit {k}" for k in range(2)])
    ax.set_title("RBM weights")
    fig.colorbar(image)
    fig.tight_layout()
    fig.savefig(plt.figure_path("rbm_movies.png"), dpi=100)
    print("saved", plt.figure_path("rbm_movies.png"))


if __name__ == "__main__":
    main()
