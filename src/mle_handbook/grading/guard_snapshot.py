"""The guard's snapshot of the objects the checks rely on (see :mod:`.guard`, which runs with it).

Sent to each grading kernel with :mod:`.guard`, as one module (the two sources, this one first):
nothing here imports ``mle_handbook``.
"""

from __future__ import annotations

import functools as _functools
import types as _types
from operator import attrgetter as _attrgetter
from operator import is_ as _is

_FunctionType = _types.FunctionType
_ModuleType = _types.ModuleType
_get_code = _attrgetter("__code__")
_get_defaults = _attrgetter("__defaults__")
_get_kwdefaults = _attrgetter("__kwdefaults__")
_get_parts = _attrgetter("__code__", "__defaults__", "__kwdefaults__")
_callable = callable
_isinstance = isinstance
_type = type
_setattr = setattr
_all = all
_map = map

#: Hooks of the interpreter that decide where output goes. (``sys.excepthook`` is not one: IPython
#: never uses it for a cell's exception, and resets it after every cell.)
SYS_HOOKS = ("displayhook", "stdout", "stderr", "breakpointhook", "unraisablehook")
#: IPython events that run code around every cell.
EVENTS = ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell")
#: Builtins that IPython and ipykernel themselves swap in and out around every cell.
VOLATILE_BUILTINS = frozenset(
    {"get_ipython", "exit", "quit", "_", "__", "___", "input", "raw_input"}
)
#: The kernel's own packages: how a cell is compiled, run, and how its result is reported.
KERNEL_PACKAGES = ("IPython", "ipykernel", "jupyter_client", "comm")
#: Shell lists through which code could rewrite later cells (for example to delete asserts).
TRANSFORMER_LISTS = ("ast_transformers", "input_transformers_post", "input_transformers_cleanup")
#: Instance attributes IPython itself sets around every cell.
VOLATILE_ATTRIBUTES = frozenset({"sys_excepthook", "_", "__", "___"})


def _same(a, b) -> bool:
    """Identity, except that a bound method made afresh for the same object and function is the same.

    IPython and ipykernel install bound methods (``builtins.input = kernel.raw_input``) for every
    request, so the method object differs each time while what it calls does not.
    """
    if a is b:
        return True
    method = _types.MethodType
    return (
        _type(a) is method
        and _type(b) is method
        and a.__func__ is b.__func__
        and a.__self__ is b.__self__
    )


def _user_code(func) -> bool:
    """Whether a callback was defined in a notebook cell rather than in an installed module.

    Partial functions, bound methods and callable objects are unwrapped to the code they run.
    """
    for _ in range(8):
        if _isinstance(func, _functools.partial):
            func = func.func
        elif _type(func) is _types.MethodType:
            func = func.__func__
        else:
            break
    if _isinstance(func, (_types.BuiltinFunctionType, _types.BuiltinMethodType)):
        return False
    if not _isinstance(func, _FunctionType):
        func = _type(func).__call__ if _callable(func) else None
        func = getattr(func, "__func__", func)
    module = getattr(func, "__module__", None)
    filename = getattr(getattr(func, "__code__", None), "co_filename", "") or ""
    return module in (None, "__main__") or filename.startswith("<") or "ipykernel_" in filename


def _protected(key, value) -> bool:
    """What a snapshot keeps: callables (functions, classes, methods, properties) and public
    sub-modules (``np.testing``)."""
    if not _isinstance(key, str):
        return False
    if _callable(value) or _isinstance(value, (classmethod, staticmethod, property)):
        return True
    return _type(value) is _ModuleType and not key.startswith("_")


def _methods(obj) -> dict:
    """An object's own callable attributes (a patched method lives there, shadowing the class's)."""
    return {k: v for k, v in vars(obj).items() if _callable(v) and k not in VOLATILE_ATTRIBUTES}


class _Mapping:
    """A snapshot of one namespace (a module, a class or the builtins): see :func:`_protected`."""

    __slots__ = ("label", "owner", "live", "keys", "values")

    def __init__(self, label, owner, live, exclude=frozenset()):
        self.label, self.owner, self.live = label, owner, live
        items = [(k, v) for k, v in list(live.items()) if k not in exclude and _protected(k, v)]
        self.keys = tuple(k for k, _ in items)
        self.values = tuple(v for _, v in items)

    def unchanged(self) -> bool:
        return _all(_map(_is, _map(self.live.get, self.keys), self.values))

    def changed(self) -> list[str]:
        get = self.live.get
        return [k for k, v in zip(self.keys, self.values, strict=True) if not _same(get(k), v)]

    def restore(self, keys) -> None:
        original = dict(zip(self.keys, self.values, strict=True))
        for key in keys:
            try:
                if _isinstance(self.owner, dict):
                    self.owner[key] = original[key]
                else:
                    _setattr(self.owner, key, original[key])
            except (AttributeError, TypeError):
                pass


class _Flat:
    """All mappings' entries in flat tuples, so that one C-level pass says whether any changed."""

    def __init__(self, mappings):
        plain = [m for m in mappings if _type(m.live) is dict]
        proxies = [m for m in mappings if _type(m.live) is _types.MappingProxyType]
        self.groups = []
        for group, get in ((plain, dict.get), (proxies, _types.MappingProxyType.get)):
            lives = tuple(m.live for m in group for _ in m.keys)
            keys = tuple(k for m in group for k in m.keys)
            values = tuple(v for m in group for v in m.values)
            self.groups.append((get, lives, keys, values))
        self.others = [m for m in mappings if m not in plain and m not in proxies]

    def unchanged(self) -> bool:
        return _all(
            _all(_map(_is, _map(get, lives, keys), values))
            for get, lives, keys, values in self.groups
        ) and _all(m.unchanged() for m in self.others)
