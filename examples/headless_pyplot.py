"""matplotlib.pyplot, except that ``show()`` saves the figure as a PNG when
there is no display (a terminal, a CI job), and says where (one file per show())."""
import os
import sys

import matplotlib

_HEADLESS = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux")
if _HEADLESS or os.environ.get("MPLBACKEND", "").lower() == "agg":
    matplotlib.use("Agg")
    _HEADLESS = True

from matplotlib.pyplot import *  # noqa: E402,F401,F403
import matplotlib.pyplot as _pyplot  # noqa: E402


_shown = 0


def figure_path(name):
    """Where a figure file goes: next to the script, or in $DEEPCORE_FIGURE_DIR when set (the tests
    set it, so that running an example there never overwrites the figures of a real run)."""
    folder = os.environ.get("DEEPCORE_FIGURE_DIR") or os.path.dirname(os.path.abspath(sys.argv[0] or "."))
    os.makedirs(folder, exist_ok=True)  # a figure folder that does not exist yet is made, not a crash at the end
    return os.path.join(folder, name)


def show(*args, **kwargs):
    """Without a display: the first figure goes to SCRIPT.png, later ones to SCRIPT_2.png, ..."""
    global _shown
    if not _HEADLESS:
        return _pyplot.show(*args, **kwargs)
    _shown += 1
    script = os.path.splitext(os.path.basename(sys.argv[0] or "figure"))[0] or "figure"
    suffix = "" if _shown == 1 else f"_{_shown}"
    path = figure_path(script + suffix + ".png")
    _pyplot.savefig(path, dpi=100)
    _pyplot.close()
    print(f"no display: saved the figure to {path}")
