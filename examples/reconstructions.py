"""The figure the auto-encoder listings end with: test digits above, their reconstructions below."""
import numpy as np

import headless_pyplot as plt


def show_reconstructions(originals, reconstructions, title, n=10):
    plt.figure(figsize=(n * 1.2, 2.8))
    for i in range(n):
        for row, images in enumerate((originals, reconstructions)):
            ax = plt.subplot(2, n, row * n + i + 1)
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
    plt.suptitle(title)
    plt.show()
