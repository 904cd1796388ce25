"""torch.use_deterministic_algorithms: the process-wide switch for deterministic kernels.

Every CPU kernel is deterministic whatever the switch says: work is split in fixed blocks, never in
per-thread chunks, so the same inputs give the same bits on any thread count (docs/hardening.md).
The switch is for the CUDA engine, where a reduction or scatter that accumulates with atomics adds
in whatever order the blocks finish. A CUDA kernel with an atomic path reads
``are_deterministic_algorithms_enabled()`` and, when it is on, takes its atomics-free path (a
fixed-order two-pass reduction); a kernel that has no such path calls
``alert_not_deterministic(name)``, which raises (or warns, with ``warn_only=True``) as PyTorch does.
Today's CUDA kernels (memory and elementwise) are all one-thread-per-output with no atomics, so none
needs either.

Like PyTorch's, the flag is global, not per thread: the kernels of one training step may run on
any thread.
"""
import warnings

_enabled = False
_warn_only = False

_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Make every kernel deterministic (mode=True) or allow the fastest one (False, the default).
    With warn_only=True a kernel that has no deterministic version warns instead of raising."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    global _enabled, _warn_only
    _enabled, _warn_only = mode, warn_only


def are_deterministic_algorithms_enabled():
    """True when use_deterministic_algorithms(True) is in force."""
    return _enabled


def is_deterministic_algorithms_warn_only_enabled():
    """True when use_deterministic_algorithms(True, warn_only=True) is in force."""
    return _warn_only


def set_deterministic_debug_mode(debug_mode):
    """The same switch as a level: 0 / "default" (off), 1 / "warn", 2 / "error"."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, int):  # True and False too, as in PyTorch
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """0 when the switch is off, 1 when it only warns, 2 when it raises."""
    if not _enabled:
        return 0
    return 1 if _warn_only else 2


def alert_not_deterministic(caller):
    """Called by a kernel that has no deterministic version: an error naming it while the switch
    is on (a UserWarning with warn_only=True); nothing while it is off."""
    if not _enabled:
        return
    message = (f"{caller} does not have a deterministic implementation, but you set "
               f"'use_deterministic_algorithms(True)'. You can turn off determinism just for this operation, "
               f"or you can use the 'warn_only=True' option, if that's acceptable for your application.")
    if _warn_only:
        warnings.warn(message, UserWarning, stacklevel=2)
    else:
        raise RuntimeError(message)
