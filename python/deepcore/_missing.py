"""The errors for names deepcore does not have yet (see deepcore.run): one clear line naming the name.

NotImplementedInDeepcore is an AttributeError so that ``hasattr(torch, "compile")`` and
``getattr(x, name, default)`` keep their meaning in scripts that probe for features."""


class NotImplementedInDeepcore(AttributeError):
    """A name a script uses that deepcore does not have (yet)."""


class ModuleNotImplementedInDeepcore(ModuleNotFoundError):
    """A module a script imports that deepcore does not have (yet)."""


def missing_message(name):
    return f"deepcore does not implement {name} yet"
