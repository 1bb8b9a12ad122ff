"""Runs inside each grading kernel: it puts the checking machinery back before every check and
proves, at the end of every check, that nothing changed it while the check ran.

The grader sends this file's source to the kernel once, before the first cell, and executes it as a
fresh module (it imports nothing from ``mle_handbook``). From then on:

- before each cell the exercise owns (set-up, locked and test cells) the grader calls
  :meth:`Guard.before`: it restores what a submission may have replaced since the last check
  (builtins; functions, classes and sub-modules of the packages the checks import; the names the
  exercise's own cells defined, such as checking helpers and expected data; the interpreter's and
  IPython's exception, display and tracing hooks) and reports what it restored;
- the last line of each such cell calls :meth:`Guard.after`. In a test cell it compares everything
  with the snapshot again and raises :class:`ChecksTampered` if anything changed *while the check
  ran*, so that the check fails; then it records the names the cell defined.

What a submission changes between checks is restored and reported; the checks then run against
the genuine helpers, so the marks are those really earned. This is a defence in depth inside one
Python process, not a security boundary: code running in the same process can, with enough effort,
find and defeat this module too (see the instructors' guide, "What the grader defends against").
"""

from __future__ import annotations

import builtins as _builtins
import functools as _functools
import sys as _sys
import threading as _threading
import types as _types
from operator import attrgetter as _attrgetter
from operator import is_ as _is

_FunctionType = _types.FunctionType
_ModuleType = _types.ModuleType
_get_code = _attrgetter("__code__")
_get_defaults = _attrgetter("__defaults__")
_get_kwdefaults = _attrgetter("__kwdefaults__")
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


class ChecksTampered(Exception):
    """Raised at the end of a check when the checking machinery was changed while it ran."""


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


class Guard:
    """Snapshot, restore and verify the objects the exercise's checks rely on."""

    def __init__(self, *, packages, imports, cell_names, answer_names, paths=()):
        self.packages = tuple(packages)
        self.imports = tuple(imports)
        self.paths = tuple(paths)
        self.cell_names = {int(k): tuple(v) for k, v in dict(cell_names).items()}
        #: Names the submission's own cells bind at top level: rebinding them is not tampering.
        self.answer_names = frozenset(answer_names)
        self.names: dict[str, object] = {}
        self.name_functions: dict[str, tuple] = {}
        self.mappings: list[_Mapping] = []
        self.functions: tuple = ()
        self.codes: tuple = ()
        self.defaults: tuple = ()
        self.kwdefaults: tuple = ()
        self.modules: dict[str, object] = {}
        self.sys_hooks: dict[str, object] = {}
        self.callbacks: dict[str, tuple] = {}
        self.transformers: dict[str, tuple] = {}
        self.instances: list[tuple[str, object, dict]] = []
        self.shell = None
        self.completed_cell: int | None = None

    # -- snapshot ---------------------------------------------------------------------------

    def install(self) -> str:
        """Import what the checks import, then snapshot; returns problems importing (if any)."""
        problems = []
        for name in self.imports:
            try:
                __import__(name)
            except Exception as exc:  # noqa: BLE001 - a missing optional module is not fatal
                problems.append(f"{name}: {type(exc).__name__}")
        for path in self.paths:
            # Follow np.testing.x as the check will, so that lazily loaded sub-modules are loaded
            # (and snapshot) now; stop at the first attribute that is not a module.
            module, _, attributes = path.partition(":")
            try:
                obj = _sys.modules.get(module) or __import__(module, fromlist=["_"])
                for attribute in attributes.split("."):
                    obj = getattr(obj, attribute)
                    if _type(obj) is not _ModuleType:
                        break
            except Exception:  # noqa: BLE001 - an attribute the checks create later, for example
                continue
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance()
        roots = set(self.packages) | set(KERNEL_PACKAGES)
        mappings = [_Mapping("builtins", _builtins.__dict__, _builtins.__dict__, VOLATILE_BUILTINS)]
        functions = {}
        seen_classes = set()
        for name, module in sorted(_sys.modules.items()):
            if not _isinstance(module, _ModuleType) or name.split(".", 1)[0] not in roots:
                continue
            self.modules[name] = module
            namespace = getattr(module, "__dict__", None)
            if not _isinstance(namespace, dict):
                continue
            mapping = _Mapping(name, namespace, namespace)
            mappings.append(mapping)
            for value in mapping.values:
                if _type(value) is _FunctionType:
                    functions[id(value)] = value
                elif _isinstance(value, type) and id(value) not in seen_classes:
                    for cls in getattr(value, "__mro__", ()):
                        if id(cls) in seen_classes or cls is object:
                            continue
                        seen_classes.add(id(cls))
                        cls_map = _Mapping(
                            f"{cls.__module__}.{cls.__qualname__}", cls, cls.__dict__
                        )
                        if cls_map.keys:
                            mappings.append(cls_map)
                            for member in cls_map.values:
                                if _type(member) is _FunctionType:
                                    functions[id(member)] = member
        self.mappings = mappings
        self.flat = _Flat(mappings)
        self.functions = tuple(functions.values())
        self.codes = tuple(_map(_get_code, self.functions))
        self.defaults = tuple(_map(_get_defaults, self.functions))
        self.kwdefaults = tuple(_map(_get_kwdefaults, self.functions))
        self.sys_hooks = {name: getattr(_sys, name, None) for name in SYS_HOOKS}
        shell = self.shell
        self.callbacks = {e: tuple(shell.events.callbacks.get(e, ())) for e in EVENTS}
        self.transformers = {n: tuple(getattr(shell, n, ())) for n in TRANSFORMER_LISTS}
        holders = [("shell", shell), ("kernel", getattr(shell, "kernel", None))]
        holders.append(("session", getattr(holders[1][1], "session", None)))
        holders += [("displayhook", shell.displayhook), ("display_pub", shell.display_pub)]
        self.instances = [
            (label, obj, _methods(obj))
            for label, obj in holders
            if obj is not None and hasattr(obj, "__dict__")
        ]
        return "; ".join(problems)

    # -- comparing --------------------------------------------------------------------------

    def _changes(self, skip_names=()) -> list[tuple[str, str, object]]:
        """Every difference from the snapshot, as (kind, description, how-to-restore)."""
        changes = []
        for mapping in self.mappings if not self.flat.unchanged() else ():
            if not mapping.unchanged() and (keys := mapping.changed()):
                kind = "messaging" if mapping.label.split(".")[0] in KERNEL_PACKAGES else "helper"
                changes.append(
                    (kind, ", ".join(f"{mapping.label}.{k}" for k in keys), (mapping, keys))
                )
        if not (
            _all(_map(_is, _map(_get_code, self.functions), self.codes))
            and _all(_map(_is, _map(_get_defaults, self.functions), self.defaults))
            and _all(_map(_is, _map(_get_kwdefaults, self.functions), self.kwdefaults))
        ):
            for i, func in enumerate(self.functions):
                if (
                    func.__code__ is not self.codes[i]
                    or func.__defaults__ is not self.defaults[i]
                    or func.__kwdefaults__ is not self.kwdefaults[i]
                ):
                    label = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}.__code__"
                    changes.append(("helper", label, ("function", i)))
        modules = _sys.modules
        for name, module in self.modules.items():
            if modules.get(name) is not module:
                changes.append(("helper", f"sys.modules[{name!r}]", ("module", name)))
        for name, value in self.sys_hooks.items():
            if not _same(getattr(_sys, name, None), value):
                changes.append(("hook", f"sys.{name}", ("sys", name)))
        if _sys.gettrace() is not None or _sys.getprofile() is not None:
            changes.append(("hook", "sys.settrace/sys.setprofile", ("trace", None)))
        if getattr(_threading, "_trace_hook", None) or getattr(_threading, "_profile_hook", None):
            changes.append(("hook", "threading.settrace/setprofile", ("trace", None)))
        shell = self.shell
        if shell.custom_exceptions:
            changes.append(("hook", "IPython set_custom_exc", ("custom_exc", None)))
        for event, original in self.callbacks.items():
            added = [
                cb
                for cb in shell.events.callbacks.get(event, ())
                if cb not in original and _user_code(cb)
            ]
            if added:
                changes.append(("hook", f"IPython {event} callback", ("event", event)))
        for name, original in self.transformers.items():
            current = getattr(shell, name, None)
            if current is not None and tuple(current) != original:
                changes.append(("hook", f"IPython shell.{name}", ("transformers", name)))
        for label, obj, original in self.instances:
            now = _methods(obj)
            keys = [k for k in set(now) | set(original) if not _same(now.get(k), original.get(k))]
            if keys:
                kind = "messaging" if label in ("kernel", "session") else "hook"
                changes.append(
                    (kind, ", ".join(f"{label}.{k}" for k in sorted(keys)), ("instance", label))
                )
        user_ns = shell.user_ns
        for name, value in self.names.items():
            if name in skip_names:
                continue
            current = user_ns.get(name, _MISSING)
            kind = "name" if name in self.answer_names else "helper"
            if current is not value:
                changes.append((kind, name, ("name", name)))
            elif name in self.name_functions:
                code, defaults, kwdefaults = self.name_functions[name]
                if (
                    getattr(value, "__code__", None) is not code
                    or getattr(value, "__defaults__", None) is not defaults
                    or getattr(value, "__kwdefaults__", None) is not kwdefaults
                ):
                    changes.append(("helper", f"{name}.__code__", ("name", name)))
        return changes

    def _restore(self, changes) -> None:
        shell = self.shell
        for _kind, _label, (what, detail) in changes:
            if isinstance(what, _Mapping):
                what.restore(detail)
            elif what == "function":
                func = self.functions[detail]
                func.__code__ = self.codes[detail]
                func.__defaults__ = self.defaults[detail]
                func.__kwdefaults__ = self.kwdefaults[detail]
            elif what == "module":
                _sys.modules[detail] = self.modules[detail]
            elif what == "sys":
                _setattr(_sys, detail, self.sys_hooks[detail])
            elif what == "trace":
                _sys.settrace(None)
                _sys.setprofile(None)
                _threading.settrace(None)
                _threading.setprofile(None)
            elif what == "custom_exc":
                shell.custom_exceptions = ()
            elif what == "event":
                callbacks = shell.events.callbacks[detail]
                callbacks[:] = [
                    cb for cb in callbacks if cb in self.callbacks[detail] or not _user_code(cb)
                ]
            elif what == "transformers":
                getattr(shell, detail)[:] = list(self.transformers[detail])
            elif what == "instance":
                for label, obj, original in self.instances:
                    if label != detail:
                        continue
                    for key in _methods(obj):
                        if key not in original:
                            delattr(obj, key)
                    for key, value in original.items():
                        if not _same(vars(obj).get(key), value):
                            _setattr(obj, key, value)
            elif what == "name":
                value = self.names[detail]
                shell.user_ns[detail] = value
                if detail in self.name_functions:
                    value.__code__, value.__defaults__, value.__kwdefaults__ = self.name_functions[
                        detail
                    ]

    # -- the protocol -----------------------------------------------------------------------

    def before(self) -> str:
        """Restore everything; report what had been changed, as ``kind: label`` lines."""
        self.completed_cell = None
        try:
            changes = self._changes()
            self._restore(changes)
            return "\n".join(f"{kind}: {label}" for kind, label, _ in changes)
        except Exception as exc:  # noqa: BLE001 - reported to the grader, which fails the checks
            return f"error: the guard failed: {type(exc).__name__}: {exc}"

    def after(self, cell: int, check: bool) -> None:
        """End of an exercise-owned cell: verify (in a check) and remember the names it defined."""
        self.completed_cell = None
        if check:
            changes = [
                c for c in self._changes(skip_names=self.cell_names.get(cell, ())) if c[0] != "name"
            ]
            if changes:
                self._restore(changes)
                raise ChecksTampered(
                    "the checking machinery was changed while this check ran: "
                    + "; ".join(label for _, label, _ in changes)
                )
        self.remember(cell)
        self.completed_cell = cell

    def completed(self, cell: int, nonce: str) -> str:
        """The grader's nonce if the check ``cell`` reached its last line; evaluated after the cell.

        A cell whose exception was hidden (a custom exception handler, a hook that clears the error)
        never ran :meth:`after`, so this returns "" and the check fails.
        """
        done, self.completed_cell = self.completed_cell == cell, None
        return nonce if done else ""

    def remember(self, cell: int) -> None:
        """Record the names an exercise cell bound (also after it failed part-way)."""
        user_ns = self.shell.user_ns
        for name in self.cell_names.get(cell, ()):
            if name in user_ns:
                value = user_ns[name]
                self.names[name] = value
                if _type(value) is _FunctionType:
                    self.name_functions[name] = (
                        value.__code__,
                        value.__defaults__,
                        value.__kwdefaults__,
                    )
                else:
                    self.name_functions.pop(name, None)
        # Callbacks an installed library registered during the exercise's own cells (matplotlib's
        # figure flushing, for one) are legitimate; callbacks defined in a notebook cell never are.
        for event in EVENTS:
            self.callbacks[event] = tuple(
                cb
                for cb in self.shell.events.callbacks.get(event, ())
                if cb in self.callbacks[event] or not _user_code(cb)
            )


_MISSING = object()
