"""matplotlib.pyplot, except that ``show()`` saves the figure as a PNG when
there is no display (a terminal, a CI job), and says where."""
import os
import sys

import matplotlib

_HEADLESS = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux")
if _HEADLESS or os.environ.get("MPLBACKEND", "").lower() == "agg":
    matplotlib.use("Agg")
    _HEADLESS = True

from matplotlib.pyplot import *  # noqa: E402,F401,F403
import matplotlib.pyplot as _pyplot  # noqa: E402


def show(*args, **kwargs):
    if not _HEADLESS:
        return _pyplot.show(*args, **kwargs)
    script = os.path.splitext(os.path.basename(sys.argv[0] or "figure"))[0] or "figure"
    path = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0] or ".")), script + ".png")
    _pyplot.savefig(path, dpi=100)
    print(f"no display: saved the figure to {path}")
