"""Run a script written for PyTorch or Keras on deepcore, unchanged::

    python -m deepcore.run train.py --epochs 3        (or: deepcore-run train.py --epochs 3)

An import hook maps the script's imports onto deepcore's modules before it runs:

    torch              -> deepcore            torch.utils.data   -> deepcore.data
    torch.<sub>        -> deepcore.<sub>      torchvision        -> deepcore.vision
    keras, tensorflow.keras -> deepcore.keras (tensorflow itself offers only .keras)

The script sees proxy modules that forward every attribute to the deepcore module. A name deepcore
lacks raises ``NotImplementedInDeepcore`` (an AttributeError, so ``hasattr`` and ``getattr(m, name,
default)`` behave as usual); if the script does not handle it, the run stops with the one line
``deepcore does not implement torch.X yet`` (``-v`` adds the traceback).
"""
import argparse
import importlib
import importlib.abc
import importlib.machinery
import os
import re
import runpy
import sys
import traceback
import types

from ._missing import ModuleNotImplementedInDeepcore, NotImplementedInDeepcore, missing_message as _missing

# Alias prefix -> deepcore module. Longest prefix wins; below a prefix the rest of the name is kept
# (torch.nn.functional -> deepcore.nn.functional).
MAPPING = (
    ("torch.utils.data", "deepcore.data"),
    ("torch", "deepcore"),
    ("torchvision", "deepcore.vision"),
    ("tensorflow.keras", "deepcore.keras"),
    ("keras", "deepcore.keras"),
    ("tensorflow", None),  # a namespace that offers only .keras
)




def target_of(alias):
    """The deepcore module name an aliased import maps to, or None when it is not an alias."""
    for prefix, target in MAPPING:
        if alias == prefix or alias.startswith(prefix + "."):
            if target is None:
                return None if alias != prefix else ""
            return target + alias[len(prefix):]
    return None


class _AliasModule(types.ModuleType):
    """What the script imports as `torch.nn`: every attribute read goes to the deepcore module."""

    def __init__(self, alias, real):
        super().__init__(alias, getattr(real, "__doc__", None))
        object.__setattr__(self, "_deepcore_module", real)
        if hasattr(real, "__path__"):
            object.__setattr__(self, "__path__", [])  # a package: submodule imports come to the finder

    def __getattr__(self, name):
        real = object.__getattribute__(self, "_deepcore_module")
        try:
            value = getattr(real, name)
        except AttributeError:
            if name.startswith("__") and name.endswith("__"):
                raise
            sub = f"{self.__name__}.{name}"
            if sub in sys.modules:  # an aliased submodule imported before
                return sys.modules[sub]
            raise NotImplementedInDeepcore(_missing(sub)) from None
        if isinstance(value, types.ModuleType):
            return _alias_for(f"{self.__name__}.{name}", value)
        return value

    def __setattr__(self, name, value):
        # torch.backends.cudnn.benchmark = True sets deepcore's flag. The import system's own
        # attributes (__spec__, __loader__, ...) and the aliased submodules it binds on the parent
        # stay on the proxy, so deepcore's modules are never changed by being imported as torch.
        if (name.startswith("__") and name.endswith("__")) or isinstance(value, types.ModuleType):
            object.__setattr__(self, name, value)
        else:
            setattr(object.__getattribute__(self, "_deepcore_module"), name, value)

    def __dir__(self):
        return dir(object.__getattribute__(self, "_deepcore_module"))

    def __repr__(self):
        real = object.__getattribute__(self, "_deepcore_module")
        return f"<module {self.__name__!r} (deepcore: {real.__name__})>"


class _TensorflowModule(types.ModuleType):
    """`import tensorflow as tf` in a Keras script: tf.keras is deepcore.keras; nothing else exists."""

    def __init__(self):
        super().__init__("tensorflow")
        self.__path__ = []

    def __getattr__(self, name):
        if name == "keras":
            return _alias_for("tensorflow.keras", importlib.import_module("deepcore.keras"))
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise NotImplementedInDeepcore(_missing(f"tensorflow.{name}"))


_ALIASES = {}


def _alias_for(alias, real):
    """One proxy per alias name, registered in sys.modules so later imports find the same object."""
    mod = _ALIASES.get(alias)
    if mod is None or object.__getattribute__(mod, "_deepcore_module") is not real:
        mod = _AliasModule(alias, real)
        _ALIASES[alias] = mod
    sys.modules.setdefault(alias, mod)
    return mod


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module):
        self._module = module

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):  # the deepcore module already ran; nothing to execute
        pass


class DeepcoreFinder(importlib.abc.MetaPathFinder):
    """Answers imports of torch/torchvision/keras/tensorflow names with deepcore's modules."""

    def __init__(self, verbose=False):
        self.verbose = verbose

    def find_spec(self, fullname, path=None, target=None):
        target_name = target_of(fullname)
        if target_name is None:
            return None
        if target_name == "":
            module = _TensorflowModule()
        else:
            try:
                real = importlib.import_module(target_name)
            except ModuleNotFoundError as e:
                if e.name and (e.name == target_name or target_name.startswith(e.name + ".")):
                    raise ModuleNotImplementedInDeepcore(_missing(fullname), name=fullname) from None
                raise
            module = _alias_for(fullname, real)
        if self.verbose:
            print(f"deepcore.run: import {fullname} -> {target_name or 'tensorflow (keras only)'}", file=sys.stderr)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__"))


def install(verbose=False):
    """Puts the import hook first on sys.meta_path (idempotent); returns the finder."""
    for finder in sys.meta_path:
        if isinstance(finder, DeepcoreFinder):
            finder.verbose = verbose
            return finder
    for name in [n for n in sys.modules if target_of(n) is not None]:
        if not isinstance(sys.modules[name], (_AliasModule, _TensorflowModule)):
            raise RuntimeError(f"deepcore.run: the real {name} is already imported in this process; "
                               f"run the script in a fresh interpreter")
    finder = DeepcoreFinder(verbose)
    sys.meta_path.insert(0, finder)
    return finder


def _missing_from_import(error):
    """'torch.nn.X' for `from torch.nn import X` when deepcore's torch.nn lacks X; None otherwise."""
    match = re.match(r"cannot import name '(\w+)' from '([\w.]+)'", str(error))
    if match is None or target_of(match.group(2)) is None:
        return None
    return f"{match.group(2)}.{match.group(1)}"


def _print_mapping():
    print("deepcore.run maps these imports:", file=sys.stderr)
    for prefix, target in MAPPING:
        print(f"  {prefix:<18} -> {target or 'tensorflow.keras only'}", file=sys.stderr)


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="deepcore-run", description="Run a script written for torch/torchvision/keras on deepcore, unchanged.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the import mapping, each mapped import, and tracebacks of missing names")
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module as `python -m MODULE` does")
    parser.add_argument("script", nargs="?", help="the script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    args = parser.parse_args(argv)
    if args.module is None and args.script is None:
        parser.error("give a SCRIPT (or -m MODULE)")
    if args.module is not None and args.script is not None:
        args.args = [args.script] + args.args
    return args


def main(argv=None):
    """The command line: returns the exit status (0, the script's SystemExit code, or 1 for a missing name)."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.verbose:
        _print_mapping()
    install(args.verbose)
    if args.module is not None:
        sys.argv = [args.module] + args.args
        run = lambda: runpy.run_module(args.module, run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        script = os.path.abspath(args.script)
        if not os.path.exists(script):
            print(f"deepcore-run: {args.script}: no such file", file=sys.stderr)
            return 2
        sys.argv = [args.script] + args.args
        sys.path.insert(0, os.path.dirname(script))  # as `python script.py` does: its folder first
        run = lambda: runpy.run_path(script, run_name="__main__")  # noqa: E731
    try:
        run()
    except (NotImplementedInDeepcore, ModuleNotImplementedInDeepcore) as e:
        if args.verbose:
            traceback.print_exc()
        print(e.args[0] if e.args else str(e), file=sys.stderr)
        return 1
    except ImportError as e:
        # `from torch.nn import X`: Python turns the proxy's AttributeError into this ImportError.
        missing = _missing_from_import(e)
        if missing is None:
            raise
        if args.verbose:
            traceback.print_exc()
        print(_missing(missing), file=sys.stderr)
        return 1
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
