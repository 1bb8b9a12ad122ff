"""Runs inside each grading kernel: it puts the checking machinery back before every check and
proves, at the end of every check, that nothing changed it while the check ran.

Sent to the kernel before the first cell, after :mod:`.guard_snapshot` (one module; neither
imports ``mle_handbook``). What the snapshot holds, and why this is a defence in depth inside one
process rather than a security boundary, is in the instructors' guide, "What the grader defends
against".
"""

import builtins as _builtins
import sys as _sys
import threading as _threading

if __package__:  # in a kernel there is no package: guard_snapshot's source came first
    from .guard_snapshot import (
        EVENTS,
        KERNEL_PACKAGES,
        SYS_HOOKS,
        TRANSFORMER_LISTS,
        VOLATILE_BUILTINS,
        _all,
        _Flat,
        _FunctionType,
        _get_code,
        _get_defaults,
        _get_kwdefaults,
        _get_parts,
        _is,
        _isinstance,
        _map,
        _Mapping,
        _methods,
        _ModuleType,
        _same,
        _setattr,
        _type,
        _user_code,
    )


class ChecksTampered(Exception):
    """Raised at the end of a check when the checking machinery was changed while it ran."""


class Guard:
    """Snapshot, restore and verify the objects the exercise's checks rely on."""

    def __init__(self, *, packages, imports, cell_names, answer_names, paths=()):
        self.packages = tuple(packages)
        self.imports = tuple(imports)
        self.paths = tuple(paths)
        self.cell_names = {int(k): tuple(v) for k, v in dict(cell_names).items()}
        #: Names the submission's own cells bind at top level: rebinding them is not tampering.
        self.answer_names = frozenset(answer_names)
        # The names the exercise's cells bound; the rest of the snapshot is taken by install().
        self.names: dict[str, object] = {}
        self.name_functions: dict[str, tuple] = {}
        self.modules: dict[str, object] = {}
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
        """Every difference from the snapshot, as (kind, description, (function, arguments)): the
        function called with the arguments restores it."""
        changes = []

        def add(kind: str, label: str, function, *arguments) -> None:
            changes.append((kind, label, (function, arguments)))

        for mapping in self.mappings if not self.flat.unchanged() else ():
            if not mapping.unchanged() and (keys := mapping.changed()):
                kind = "messaging" if mapping.label.split(".")[0] in KERNEL_PACKAGES else "helper"
                label = ", ".join(f"{mapping.label}.{k}" for k in keys)
                add(kind, label, mapping.restore, keys)
        if not (
            _all(_map(_is, _map(_get_code, self.functions), self.codes))
            and _all(_map(_is, _map(_get_defaults, self.functions), self.defaults))
            and _all(_map(_is, _map(_get_kwdefaults, self.functions), self.kwdefaults))
        ):
            for i, func in enumerate(self.functions):
                original = (self.codes[i], self.defaults[i], self.kwdefaults[i])
                if not _all(_map(_is, _get_parts(func), original)):
                    label = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}.__code__"
                    add("helper", label, _reset, func, original)
        modules = _sys.modules
        for name, module in self.modules.items():
            if modules.get(name) is not module:
                add("helper", f"sys.modules[{name!r}]", modules.__setitem__, name, module)
        for name, value in self.sys_hooks.items():
            if not _same(getattr(_sys, name, None), value):
                add("hook", f"sys.{name}", _setattr, _sys, name, value)
        if _sys.gettrace() is not None or _sys.getprofile() is not None:
            add("hook", "sys.settrace/sys.setprofile", _untrace)
        if getattr(_threading, "_trace_hook", None) or getattr(_threading, "_profile_hook", None):
            add("hook", "threading.settrace/setprofile", _untrace)
        shell = self.shell
        if shell.custom_exceptions:
            add("hook", "IPython set_custom_exc", _setattr, shell, "custom_exceptions", ())
        for event, original in self.callbacks.items():
            callbacks = shell.events.callbacks.get(event, [])
            if [cb for cb in callbacks if cb not in original and _user_code(cb)]:
                kept = [cb for cb in callbacks if cb in original or not _user_code(cb)]
                add("hook", f"IPython {event} callback", _refill, callbacks, kept)
        for name, original in self.transformers.items():
            current = getattr(shell, name, None)
            if current is not None and tuple(current) != original:
                add("hook", f"IPython shell.{name}", _refill, current, original)
        for label, obj, original in self.instances:
            now = _methods(obj)
            keys = [k for k in set(now) | set(original) if not _same(now.get(k), original.get(k))]
            if keys:
                kind = "messaging" if label in ("kernel", "session") else "hook"
                label = ", ".join(f"{label}.{k}" for k in sorted(keys))
                add(kind, label, _reset_instance, obj, original)
        user_ns = shell.user_ns
        for name, value in self.names.items():
            if name in skip_names:
                continue
            kind = "name" if name in self.answer_names else "helper"
            original = self.name_functions.get(name)
            if user_ns.get(name, _MISSING) is not value:
                add(kind, name, self._rebind, name, value, original)
            elif original is not None and not _all(_map(_is, _get_parts(value), original)):
                add("helper", f"{name}.__code__", _reset, value, original)
        return changes

    def _rebind(self, name, value, function) -> None:
        self.shell.user_ns[name] = value
        if function is not None:
            _reset(value, function)

    def _restore(self, changes) -> None:
        for _kind, _label, (function, arguments) in changes:
            function(*arguments)

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
                    self.name_functions[name] = _get_parts(value)
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


def _reset(func, original) -> None:
    func.__code__, func.__defaults__, func.__kwdefaults__ = original


def _refill(target: list, items) -> None:
    target[:] = list(items)


def _untrace() -> None:
    _sys.settrace(None)
    _sys.setprofile(None)
    _threading.settrace(None)
    _threading.setprofile(None)


def _reset_instance(obj, original) -> None:
    for key in _methods(obj):
        if key not in original:
            delattr(obj, key)
    for key, value in original.items():
        if not _same(vars(obj).get(key), value):
            _setattr(obj, key, value)
