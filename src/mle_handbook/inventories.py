"""Offline fallback inventories for ``sphinx.ext.intersphinx``.

The handbook links to the Python, NumPy, pandas, scikit-learn and PySpark documentation through
intersphinx. Machines without general network access (this project's CI among them) cannot fetch
those sites' ``objects.inv``, so ``conf.py`` lists a second location for each project: an inventory
committed under ``docs/_intersphinx/``. Intersphinx tries the locations in order; when the online
inventory is reachable it wins and the committed one is never read.

This module writes those committed inventories. It does not copy anybody's ``objects.inv``: it
imports the installed packages, lists their public objects and gives each the address it has in
the published documentation. The address rules (one per documentation site, see the ``_*_uri``
helpers and the functions below) were checked against the real sites' page addresses and, where
the pages come from ``autosummary``, against the projects' own documentation sources; roles follow
what ``sphinx.ext.autodoc`` (or, for Python itself, the hand-written reference) declares, so a
reference that resolves offline resolves online with the same role.

Regenerate with::

    python -m mle_handbook.inventories --out docs/_intersphinx

The output is deterministic for a given set of installed packages: entries are sorted and the
compression level is fixed.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import re
import sys
import types
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

#: Where ``main`` writes by default (relative to the current directory, normally the repository).
DEFAULT_OUT = Path("docs/_intersphinx")

HEADER = (
    "# Sphinx inventory version 2\n"
    "# Project: {project}\n"
    "# Version: {version}\n"
    "# The remainder of this file is compressed using zlib.\n"
)


# --------------------------------------------------------------------------------------------
# The inventory format
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Entry:
    """One object of an inventory: ``name role priority uri dispname``.

    ``uri`` is relative to the documentation root and includes the anchor, e.g.
    ``library/functools.html#functools.partial``.
    """

    name: str
    role: str
    uri: str
    dispname: str = "-"
    priority: int = 1

    def line(self) -> str:
        """The entry as Sphinx writes it: an anchor ending in the name is shortened to ``$``."""
        uri = self.uri
        page, sep, anchor = uri.partition("#")
        if sep and anchor.endswith(self.name):
            uri = f"{page}#{anchor[: -len(self.name)]}$"
        dispname = "-" if self.dispname == self.name else self.dispname
        return f"{self.name} {self.role} {self.priority} {uri} {dispname}"


@dataclass
class Inventory:
    """The objects of one documentation site, keyed by ``(role, name)`` (first one added wins)."""

    project: str
    version: str
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)

    def add(self, name: str, role: str, uri: str, dispname: str = "-", priority: int = 1) -> None:
        if " " in name and not role.startswith("std:"):
            raise ValueError(f"object names have no spaces: {name!r}")
        key = (role, name)
        if key not in self.entries:
            self.entries[key] = Entry(name, role, uri, dispname, priority)

    def obj(self, name: str, role: str, page: str) -> None:
        """An object whose anchor on ``page`` is its own name."""
        self.add(name, role, f"{page}#{anchor(name)}")

    def module(self, name: str, page: str) -> None:
        self.add(name, "py:module", f"{page}#module-{anchor(name)}", priority=0)

    def doc(self, docname: str, title: str) -> None:
        self.add(docname, "std:doc", f"{docname}.html", title, priority=-1)

    def __len__(self) -> int:
        return len(self.entries)

    def sorted_entries(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.role, e.name, e.uri))

    def dumps(self) -> bytes:
        """The ``objects.inv`` bytes (Sphinx inventory version 2)."""
        header = HEADER.format(project=self.project, version=self.version).encode()
        body = "".join(entry.line() + "\n" for entry in self.sorted_entries()).encode()
        return header + zlib.compress(body, 9)


# --------------------------------------------------------------------------------------------
# Looking at objects the way autodoc does
# --------------------------------------------------------------------------------------------


_NON_ID_CHARS = re.compile("[^a-zA-Z0-9._]+")
_NON_ID_AT_ENDS = re.compile("^[-0-9._]+|-+$")


def anchor(name: str) -> str:
    """The HTML id Sphinx gives an object (``sphinx.util.nodes.make_id``).

    Dots, case and inner underscores survive; leading underscores do not (``__debug__`` is
    ``#debug__``).
    """
    return _NON_ID_AT_ENDS.sub("", _NON_ID_CHARS.sub("-", " ".join(name.split())))


def _import(name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception:  # an optional dependency is missing: the module is simply not listed
        return None


def _public(names: Iterable[str]) -> list[str]:
    return sorted({n for n in names if not n.startswith("_")})


def _module_names(module: types.ModuleType) -> list[str]:
    """A module's public names: ``__all__`` where it has one, else what ``dir()`` shows."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = dir(module)
    return _public(n for n in names if _safe_hasattr(module, n))


def _safe_hasattr(obj: object, name: str) -> bool:
    try:
        getattr(obj, name)
    except Exception:  # a lazy attribute that refuses to load (scikit-learn's experimental ones)
        return False
    return True


def _is_exception(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseException)


def _object_role(obj: object) -> str:
    """The role autodoc gives a module-level object (``autosummary``'s ``auto{objtype}``)."""
    if inspect.ismodule(obj):
        return "py:module"
    if _is_exception(obj):
        return "py:exception"
    if isinstance(obj, type):
        return "py:class"
    if inspect.isroutine(obj) or _is_function_like(obj):
        return "py:function"
    return "py:data"


def _is_function_like(obj: object) -> bool:
    """NumPy's ``_ArrayFunctionDispatcher`` and similar wrappers are documented as functions."""
    return callable(obj) and type(obj).__name__ in {"_ArrayFunctionDispatcher"}


def _member_role(cls: type, name: str, *, properties: str = "py:property") -> str | None:
    """The role autodoc gives ``cls.name``; ``None`` for nested classes and missing names.

    Methods (class and static ones too) are ``py:method``; ``property`` and ``cached_property``
    objects are ``py:property`` (or ``properties`` where a template forces ``autoattribute``);
    anything else (slots, getset descriptors, plain values, custom descriptors) is
    ``py:attribute``.
    """
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(raw, (staticmethod, classmethod)):
        return "py:method"
    if isinstance(raw, (property, cached_property)):
        return properties
    try:
        value = getattr(cls, name)
    except Exception:
        return None
    if isinstance(value, type):
        return None
    if inspect.isroutine(value) or inspect.isroutine(raw):
        return "py:method"
    if isinstance(value, (property, cached_property)):
        return properties
    return "py:attribute"


def _has_doc(cls: type, name: str) -> bool:
    try:
        value = getattr(cls, name)
    except Exception:
        return False
    if isinstance(value, (property, cached_property)):
        return bool(inspect.getdoc(value))
    doc = inspect.getdoc(value)
    if not doc:
        return False
    # Plain values (an ``int`` class attribute) report their type's docstring: not their own.
    return not (not callable(value) and doc == inspect.getdoc(type(value)))


def _class_members(
    cls: type,
    *,
    inherited: bool = True,
    documented_only: bool = False,
    dunders: Iterable[str] = (),
) -> Iterator[str]:
    """Public member names of ``cls`` (sorted), as autodoc or autosummary would list them."""
    if inherited:
        names = set(dir(cls))
    else:
        names = set(vars(cls))
    wanted = {n for n in names if not n.startswith("_")} | (set(dunders) & names)
    for name in sorted(wanted):
        if documented_only and not _has_doc(cls, name):
            continue
        yield name


def _version(module_name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module_name)
    except PackageNotFoundError:
        module = _import(module_name)
        return str(getattr(module, "__version__", "")) if module else ""


# --------------------------------------------------------------------------------------------
# Python: https://docs.python.org/3/
# --------------------------------------------------------------------------------------------

#: Standard-library modules the handbook may refer to; each has ``library/<name>.html``.
PYTHON_MODULES = (
    "abc",
    "argparse",
    "bisect",
    "collections",
    "collections.abc",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "glob",
    "hashlib",
    "heapq",
    "io",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "os",
    "os.path",
    "pathlib",
    "pickle",
    "pprint",
    "random",
    "re",
    "shutil",
    "statistics",
    "string",
    "subprocess",
    "sys",
    "tempfile",
    "textwrap",
    "time",
    "timeit",
    "typing",
    "uuid",
    "warnings",
    "zipfile",
)

#: Built-in classes documented with ``.. class::`` in library/functions.html.
_BUILTIN_CLASSES_ON_FUNCTIONS = {
    "bool",
    "complex",
    "float",
    "int",
    "object",
    "property",
    "slice",
    "super",
    "type",
}
#: Built-in classes documented with ``.. class::`` in library/stdtypes.html.
_BUILTIN_CLASSES_ON_STDTYPES = {
    "bytearray",
    "bytes",
    "dict",
    "frozenset",
    "list",
    "memoryview",
    "range",
    "set",
    "str",
    "tuple",
}
#: Built-in classes that library/functions.html documents with ``.. function::``.
_BUILTIN_CLASSES_AS_FUNCTIONS = {
    "classmethod",
    "enumerate",
    "filter",
    "map",
    "reversed",
    "staticmethod",
    "zip",
}
#: library/constants.html.
_BUILTIN_CONSTANTS = ("Ellipsis", "False", "None", "NotImplemented", "True", "__debug__")
#: Built-in types whose methods library/stdtypes.html documents as ``<type>.<method>``.
#: (``set``'s methods are written under ``frozenset`` there, so only the shared ones are safe.)
_STDTYPES_WITH_METHODS = ("bytearray", "bytes", "dict", "float", "int", "memoryview", "str")

#: Objects the Python reference documents with ``.. function::`` although they are classes.
_PYTHON_DOCUMENTED_AS_FUNCTIONS = {
    "abc.abstractclassmethod",
    "abc.abstractproperty",
    "abc.abstractstaticmethod",
    "collections.namedtuple",
    "contextlib.aclosing",
    "contextlib.chdir",
    "contextlib.closing",
    "contextlib.nullcontext",
    "contextlib.redirect_stderr",
    "contextlib.redirect_stdout",
    "contextlib.suppress",
    "enum.member",
    "enum.nonmember",
    "enum.property",
    "enum.verify",
    "functools.cached_property",
    "functools.cmp_to_key",
    "functools.partial",
    "hashlib.blake2b",
    "hashlib.blake2s",
    "itertools.accumulate",
    "itertools.batched",
    "itertools.chain",
    "itertools.combinations",
    "itertools.combinations_with_replacement",
    "itertools.compress",
    "itertools.count",
    "itertools.cycle",
    "itertools.dropwhile",
    "itertools.filterfalse",
    "itertools.groupby",
    "itertools.islice",
    "itertools.pairwise",
    "itertools.permutations",
    "itertools.product",
    "itertools.repeat",
    "itertools.starmap",
    "itertools.takewhile",
    "itertools.zip_longest",
    "operator.attrgetter",
    "operator.itemgetter",
    "operator.methodcaller",
}
#: Other roles that differ from what the object is at run time.
_PYTHON_ROLES = {
    "datetime.UTC": "py:attribute",
    "decimal.BasicContext": "py:class",
    "decimal.DefaultContext": "py:class",
    "decimal.ExtendedContext": "py:class",
    "logging.lastResort": "py:attribute",
    "typing.Annotated": "py:data",
    "typing.Any": "py:data",
    "typing.Callable": "py:data",
    "typing.Tuple": "py:data",
    "typing.NamedTuple": "py:class",
    "typing.ParamSpecArgs": "py:data",
    "typing.ParamSpecKwargs": "py:data",
    "typing.TypedDict": "py:class",
}
#: Objects documented on another module's page.
_PYTHON_PAGES_ELSEWHERE = {
    "logging.FileHandler": "logging.handlers",
    "logging.NullHandler": "logging.handlers",
    "logging.StreamHandler": "logging.handlers",
}
#: Exported names the reference does not document as objects.
_PYTHON_UNDOCUMENTED = {
    "hashlib.md5",
    "hashlib.sha1",
    "hashlib.sha224",
    "hashlib.sha256",
    "hashlib.sha384",
    "hashlib.sha3_224",
    "hashlib.sha3_256",
    "hashlib.sha3_384",
    "hashlib.sha3_512",
    "hashlib.sha512",
    "hashlib.shake_128",
    "hashlib.shake_256",
    "re.template",
}
#: Classes whose members the reference does not list one by one (mixin tables, or the module
#: functions stand for them).
_PYTHON_NO_MEMBERS = {"random.Random", "random.SystemRandom"}
#: Members of built-in types that library/stdtypes.html covers in tables, not as objects.
_STDTYPES_UNDOCUMENTED = {
    "bytearray.append",
    "bytearray.clear",
    "bytearray.copy",
    "bytearray.extend",
    "bytearray.insert",
    "bytearray.pop",
    "bytearray.remove",
    "bytearray.reverse",
    "float.conjugate",
    "float.imag",
    "float.real",
    "int.conjugate",
    "int.denominator",
    "int.imag",
    "int.numerator",
    "int.real",
}

#: Whole pages, ``std:doc`` entries: (docname, title).
PYTHON_PAGES = (
    ("glossary", "Glossary"),
    ("library/index", "The Python Standard Library"),
    ("library/functions", "Built-in Functions"),
    ("library/stdtypes", "Built-in Types"),
    ("library/exceptions", "Built-in Exceptions"),
    ("reference/index", "The Python Language Reference"),
    ("tutorial/index", "The Python Tutorial"),
)


def _python_page(module: str) -> str:
    return f"library/{module}.html"


def _python_module_objects(module_name: str) -> Iterator[tuple[str, object]]:
    """``(name, object)`` for the public objects a standard-library module documents."""
    module = _import(module_name)
    if module is None:
        return
    declared = getattr(module, "__all__", None)
    for name in _module_names(module):
        # sys keeps the originals of the hooks a test runner or IDE may replace.
        obj = getattr(module, f"__{name}__", None) if module_name == "sys" else None
        obj = obj if obj is not None else getattr(module, name)
        if inspect.ismodule(obj) or f"{module_name}.{name}" in _PYTHON_UNDOCUMENTED:
            continue
        home = getattr(obj, "__module__", None)
        if isinstance(obj, type) and home == "builtins":
            continue  # an alias of a built-in (``typing.Text``, ``uuid.bytes_``)
        if module_name == "pickle" and name.isupper() and not name.endswith("PROTOCOL"):
            continue  # pickle's opcodes, which only pickletools describes
        defined = isinstance(obj, type) or inspect.isroutine(obj)
        if declared is None and defined and home is not None and module_name != "sys":
            # No __all__: keep the classes and functions the module defines (or re-exports from
            # its C accelerator), not those it merely imports. (``sys`` defines all it has, but
            # a test runner may have swapped ``sys.unraisablehook`` for its own.)
            root = module_name.split(".")[0]
            if home != "builtins" and not home.lstrip("_").startswith(root):
                continue
        yield name, obj


def _python_role(module_name: str, fullname: str, obj: object) -> str:
    if fullname in _PYTHON_ROLES:
        return _PYTHON_ROLES[fullname]
    if fullname in _PYTHON_DOCUMENTED_AS_FUNCTIONS:
        return "py:function"
    if module_name == "typing" and not isinstance(obj, type):
        # Deprecated aliases (``typing.List``) are classes in the reference, special forms
        # (``typing.Optional``) data.
        return "py:class" if hasattr(obj, "__origin__") else _object_role(obj)
    if module_name == "decimal" and _is_exception(obj):
        return "py:class"  # the signals are documented as classes
    return _object_role(obj)


def _python_members(cls: type, module_name: str) -> Iterator[str]:
    """Members the reference documents for ``cls``: those it adds itself.

    That is, names defined by the class or by a private base from its own module or that
    module's C accelerator (``argparse._ActionsContainer``, ``_io._IOBase``), documented, and not
    inherited from or overriding a public base (``OrderedDict.keys`` is ``dict.keys``;
    ``io.BytesIO.read`` is ``io.BufferedIOBase.read``, a base ``io`` only registers).
    """
    homes = {module_name, f"_{module_name}"}
    public_bases = [
        base for base in cls.__mro__[1:] if base is not object and not base.__name__.startswith("_")
    ]
    if module_name == "io":
        import io

        abcs = (io.IOBase, io.RawIOBase, io.BufferedIOBase, io.TextIOBase)
        public_bases += [base for base in abcs if base is not cls and issubclass(cls, base)]
    inherited = {klass for base in public_bases for klass in base.__mro__}
    own: set[str] = set()
    for klass in cls.__mro__:
        private = klass.__name__.startswith("_") and klass.__module__ in homes
        if klass is cls or (private and klass not in inherited):
            own.update(vars(klass))
    inherited_names = {name for klass in inherited for name in vars(klass)}
    for name in sorted(own - inherited_names):
        if not name.startswith("_") and _has_doc(cls, name):
            yield name


def python_inventory() -> Inventory:
    """Built-ins and the modules in :data:`PYTHON_MODULES`, at docs.python.org/3 addresses."""
    inv = Inventory("Python", f"{sys.version_info.major}.{sys.version_info.minor}")
    for docname, title in PYTHON_PAGES:
        inv.doc(docname, title)

    # Built-ins: library/functions.html, stdtypes.html, exceptions.html and constants.html.
    for name in _public(dir(builtins)) + list(_BUILTIN_CONSTANTS):
        obj = getattr(builtins, name)
        if name in _BUILTIN_CONSTANTS:
            inv.obj(name, "py:data", "library/constants.html")
        elif _is_exception(obj):
            inv.obj(name, "py:exception", "library/exceptions.html")
        elif name in _BUILTIN_CLASSES_AS_FUNCTIONS:
            inv.obj(name, "py:function", "library/functions.html")
        elif name in _BUILTIN_CLASSES_ON_STDTYPES:
            inv.obj(name, "py:class", "library/stdtypes.html")
        elif name in _BUILTIN_CLASSES_ON_FUNCTIONS:
            inv.obj(name, "py:class", "library/functions.html")
        elif isinstance(obj, types.BuiltinFunctionType):
            inv.obj(name, "py:function", "library/functions.html")
    for type_name in _STDTYPES_WITH_METHODS:
        cls = getattr(builtins, type_name)
        for member in _class_members(cls, inherited=False):
            role = _member_role(cls, member, properties="py:attribute")
            fullname = f"{type_name}.{member}"
            if role is not None and fullname not in _STDTYPES_UNDOCUMENTED:
                inv.obj(fullname, role, "library/stdtypes.html")
    inv.obj("list.sort", "py:method", "library/stdtypes.html")

    for module_name in PYTHON_MODULES:
        if _import(module_name) is None:
            continue
        inv.module(module_name, _python_page(module_name))
        for name, obj in _python_module_objects(module_name):
            fullname = f"{module_name}.{name}"
            page = _python_page(_PYTHON_PAGES_ELSEWHERE.get(fullname, module_name))
            role = _python_role(module_name, fullname, obj)
            inv.obj(fullname, role, page)
            documents_members = (
                isinstance(obj, type)
                and not hasattr(obj, "n_sequence_fields")  # struct sequences: fields in a table
                and not hasattr(obj, "_fields")  # named tuples likewise
                and role in {"py:class", "py:exception"}
                and obj.__name__ == name  # not an alias such as ``os.error``
                and module_name not in {"collections.abc", "typing"}
                and fullname not in _PYTHON_NO_MEMBERS
            )
            if documents_members:
                for member in _python_members(obj, module_name):
                    member_role = _member_role(obj, member, properties="py:attribute")
                    if member_role is not None:
                        inv.obj(f"{fullname}.{member}", member_role, page)
    return inv


# --------------------------------------------------------------------------------------------
# NumPy: https://numpy.org/doc/stable/
# --------------------------------------------------------------------------------------------

#: Scalar types documented with ``.. autoclass::`` on reference/arrays.scalars.html.
_NUMPY_SCALAR_CLASSES = (
    "bool",
    "bool_",
    "byte",
    "bytes_",
    "cdouble",
    "character",
    "clongdouble",
    "complex128",
    "complex64",
    "complexfloating",
    "csingle",
    "datetime64",
    "double",
    "flexible",
    "float16",
    "float32",
    "float64",
    "floating",
    "generic",
    "half",
    "inexact",
    "int_",
    "intc",
    "integer",
    "long",
    "longdouble",
    "longlong",
    "number",
    "object_",
    "short",
    "signedinteger",
    "single",
    "str_",
    "timedelta64",
    "ubyte",
    "uint",
    "uintc",
    "ulong",
    "ulonglong",
    "unsignedinteger",
    "ushort",
    "void",
)
#: Sized aliases documented with ``.. attribute::`` on reference/arrays.scalars.html.
_NUMPY_SCALAR_ALIASES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "intp",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintp",
)
#: reference/constants.html.
_NUMPY_CONSTANTS = ("e", "euler_gamma", "inf", "nan", "newaxis", "pi")
#: Classes whose methods and attributes get their own reference/generated/ pages.
_NUMPY_CLASSES_WITH_MEMBERS = ("dtype", "ndarray", "ufunc")
#: BitGenerators with a page of their own under reference/random/bit_generators/.
_NUMPY_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
#: Modules declared with ``.. module::``: (module, page).
_NUMPY_MODULES = (
    ("numpy", "reference/index.html"),
    ("numpy.linalg", "reference/routines.linalg.html"),
    ("numpy.random", "reference/random/index.html"),
    ("numpy.testing", "reference/routines.testing.html"),
)
NUMPY_PAGES = (
    ("index", "NumPy documentation"),
    ("reference/index", "NumPy Reference"),
    ("user/index", "NumPy user guide"),
    ("user/absolute_beginners", "NumPy: the absolute basics for beginners"),
    ("reference/random/index", "Random sampling"),
)


#: ``type(obj).__name__`` of NumPy's index tricks (``numpy.r_``, ``numpy.s_``), documented as data.
_NUMPY_INDEX_TRICKS = {"CClass", "IndexExpression", "MGridClass", "OGridClass", "RClass"}
GENERATED = "reference/generated"
RANDOM_GENERATED = "reference/random/generated"


def _numpy_page(fullname: str, folder: str = GENERATED) -> str:
    """An ``autosummary`` stub page: ``<folder>/<fullname>.html``."""
    return f"{folder}/{fullname}.html"


def numpy_inventory() -> Inventory:
    """NumPy's functions, ufuncs, ``ndarray``/``dtype``, scalar types, linalg, fft and random."""
    import numpy as np

    inv = Inventory("NumPy", _version("numpy"))
    for docname, title in NUMPY_PAGES:
        inv.doc(docname, title)
    for module_name, page in _NUMPY_MODULES:
        inv.module(module_name, page)

    for name in _NUMPY_SCALAR_CLASSES:
        if hasattr(np, name):
            inv.obj(f"numpy.{name}", "py:class", "reference/arrays.scalars.html")
    for name in _NUMPY_SCALAR_ALIASES:
        if hasattr(np, name):
            inv.obj(f"numpy.{name}", "py:attribute", "reference/arrays.scalars.html")
    for name in _NUMPY_CONSTANTS:
        inv.obj(f"numpy.{name}", "py:data", "reference/constants.html")

    # Functions, ufuncs (documented as data: "numpy.add = <ufunc 'add'>") and classes, each on
    # its own reference/generated/ page.
    skip = set(_NUMPY_SCALAR_CLASSES) | set(_NUMPY_SCALAR_ALIASES) | set(_NUMPY_CONSTANTS)
    for name in _module_names(np):
        obj = getattr(np, name)
        fullname = f"numpy.{name}"
        if name in skip or inspect.ismodule(obj):
            continue
        if isinstance(obj, np.ufunc) or type(obj).__name__ in _NUMPY_INDEX_TRICKS:
            inv.obj(fullname, "py:data", _numpy_page(fullname))
        elif isinstance(obj, type):
            if not issubclass(obj, np.generic):  # other scalar names are not documented
                inv.obj(fullname, _object_role(obj), _numpy_page(fullname))
        elif (inspect.isroutine(obj) or _is_function_like(obj)) and name != "test":
            inv.obj(fullname, "py:function", _numpy_page(fullname))
    for class_name in _NUMPY_CLASSES_WITH_MEMBERS:
        cls = getattr(np, class_name)
        for member in _class_members(cls, dunders=("__call__",)):
            role = _member_role(cls, member)
            if role is not None:
                fullname = f"numpy.{class_name}.{member}"
                inv.obj(fullname, role, _numpy_page(fullname))

    for module_name in ("numpy.linalg", "numpy.fft", "numpy.exceptions", "numpy.testing"):
        module = _import(module_name)
        if module is None:
            continue
        for name in _module_names(module):
            obj = getattr(module, name)
            fullname = f"{module_name}.{name}"
            if module_name == "numpy.testing" and not name.startswith("assert_"):
                continue  # the test-support helpers the reference documents are the asserts
            if isinstance(obj, type) or inspect.isroutine(obj) or _is_function_like(obj):
                inv.obj(fullname, _object_role(obj), _numpy_page(fullname))

    # numpy.random: reference/random/generator.html, legacy.html and their generated/ pages.
    random = np.random
    inv.obj("numpy.random.default_rng", "py:function", "reference/random/generator.html")
    inv.obj("numpy.random.Generator", "py:class", "reference/random/generator.html")
    inv.obj("numpy.random.RandomState", "py:class", "reference/random/legacy.html")
    for cls in (random.Generator, random.RandomState):
        for member in _class_members(cls):
            role = _member_role(cls, member)
            fullname = f"numpy.random.{cls.__name__}.{member}"
            if role == "py:method" or (role is not None and cls is random.Generator):
                inv.obj(fullname, role, _numpy_page(fullname, RANDOM_GENERATED))
    for name in _module_names(random):
        obj = getattr(random, name)
        if inspect.isroutine(obj) and name != "default_rng":
            fullname = f"numpy.random.{name}"
            inv.obj(fullname, "py:function", _numpy_page(fullname, RANDOM_GENERATED))
    for name in _NUMPY_BIT_GENERATORS:
        if hasattr(random, name):
            page = f"reference/random/bit_generators/{name.lower()}.html"
            inv.obj(f"numpy.random.{name}", "py:class", page)
    for name in ("BitGenerator", "SeedSequence"):
        fullname = f"numpy.random.{name}"
        inv.obj(
            fullname, "py:class", _numpy_page(fullname, "reference/random/bit_generators/generated")
        )
    return inv


# --------------------------------------------------------------------------------------------
# pandas: https://pandas.pydata.org/docs/
# --------------------------------------------------------------------------------------------

#: Classes whose members the pandas API reference lists (each on reference/api/<name>.html).
_PANDAS_CLASSES_WITH_MEMBERS = (
    "pandas.Categorical",
    "pandas.DataFrame",
    "pandas.DatetimeIndex",
    "pandas.Index",
    "pandas.Interval",
    "pandas.MultiIndex",
    "pandas.Period",
    "pandas.Series",
    "pandas.Timedelta",
    "pandas.Timestamp",
    "pandas.core.groupby.DataFrameGroupBy",
    "pandas.core.groupby.SeriesGroupBy",
    "pandas.core.resample.Resampler",
    "pandas.core.window.rolling.Rolling",
    "pandas.core.window.expanding.Expanding",
    "pandas.core.window.ewm.ExponentialMovingWindow",
    "pandas.io.formats.style.Styler",
)
#: Accessors: (owner, accessor, accessor class path).
_PANDAS_ACCESSORS = (
    ("pandas.Series", "str", "pandas.core.strings.accessor.StringMethods"),
    ("pandas.Series", "dt", "pandas.core.indexes.accessors.CombinedDatetimelikeProperties"),
    ("pandas.Series", "cat", "pandas.core.arrays.categorical.CategoricalAccessor"),
    ("pandas.Series", "plot", "pandas.plotting.PlotAccessor"),
    ("pandas.DataFrame", "plot", "pandas.plotting.PlotAccessor"),
)
#: Modules whose public functions and classes have reference/api/ pages.
_PANDAS_MODULES = (
    "pandas.api.extensions",
    "pandas.api.indexers",
    "pandas.api.types",
    "pandas.arrays",
    "pandas.errors",
    "pandas.plotting",
    "pandas.testing",
)
#: Exported names the API reference does not document by that name.
_PANDAS_UNDOCUMENTED = {
    "pandas.NA",
    "pandas.NaT",
    "pandas.lreshape",
    "pandas.options",
    "pandas.Series.plot.hexbin",  # DataFrame-only plots
    "pandas.Series.plot.scatter",
    "pandas.plotting.PlotAccessor",
    "pandas.plotting.boxplot_frame",
    "pandas.plotting.boxplot_frame_groupby",
    "pandas.plotting.hist_frame",
    "pandas.plotting.hist_series",
    "pandas.test",
    "pandas.to_pickle",
    "pandas.value_counts",
}
#: Index subclasses: the reference lists what they add to ``pandas.Index``, not what they share.
_PANDAS_INDEX_SUBCLASSES = {"pandas.DatetimeIndex", "pandas.MultiIndex"}
#: Classes whose reference page lists only a few members.
_PANDAS_FEW_MEMBERS = {
    "pandas.Categorical": {"__array__", "categories", "codes", "dtype", "from_codes", "ordered"},
}
PANDAS_PAGES = (
    ("index", "pandas documentation"),
    ("getting_started/index", "Getting started"),
    ("user_guide/index", "User Guide"),
    ("reference/index", "API reference"),
    ("user_guide/groupby", "Group by: split-apply-combine"),
    ("user_guide/io", "IO tools (text, CSV, HDF5, \u2026)"),
)


def _resolve(path: str) -> object | None:
    module_name, _, attr = path.rpartition(".")
    while module_name:
        module = _import(module_name)
        if module is not None:
            obj: object = module
            try:
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except AttributeError:
                return None
            return obj
        module_name, _, head = module_name.rpartition(".")
        attr = f"{head}.{attr}"
    return None


def _pandas_page(fullname: str) -> str:
    """Every object has a page of its own: ``reference/api/<fullname>.html``."""
    return f"reference/api/{fullname}.html"


def pandas_inventory() -> Inventory:
    """pandas' top-level API, DataFrame/Series/Index members, accessors, groupby and windows."""
    import pandas as pd

    inv = Inventory("pandas", _version("pandas"))
    for docname, title in PANDAS_PAGES:
        inv.doc(docname, title)
    inv.module("pandas", "index.html")

    seen: set[int] = set()
    for module_name in ("pandas", *_PANDAS_MODULES):
        module = _import(module_name)
        if module is None:
            continue
        for name in _module_names(module):
            obj = getattr(module, name)
            fullname = f"{module_name}.{name}"
            if fullname in _PANDAS_UNDOCUMENTED or inspect.ismodule(obj):
                continue
            if module_name != "pandas" and not (callable(obj) or isinstance(obj, type)):
                continue
            if isinstance(obj, type) and id(obj) in seen:
                continue  # ``pandas.api.types.CategoricalDtype`` is ``pandas.CategoricalDtype``
            seen.add(id(obj))
            inv.obj(fullname, _object_role(obj), _pandas_page(fullname))
    offsets = _import("pandas.tseries.offsets")
    if offsets is not None:
        for name in _module_names(offsets):
            if isinstance(getattr(offsets, name), type):
                fullname = f"pandas.tseries.offsets.{name}"
                inv.obj(fullname, "py:class", _pandas_page(fullname))

    index_names = set(dir(pd.Index))
    for path in _PANDAS_CLASSES_WITH_MEMBERS:
        cls = _resolve(path)
        if not isinstance(cls, type):
            continue
        inv.obj(path, _object_role(cls), _pandas_page(path))
        for member in _class_members(cls, documented_only=True, dunders=("__iter__", "__array__")):
            if path in _PANDAS_INDEX_SUBCLASSES and member in index_names:
                continue
            if path in _PANDAS_FEW_MEMBERS and member not in _PANDAS_FEW_MEMBERS[path]:
                continue
            role = _member_role(cls, member)
            if role is None:
                continue
            raw = inspect.getattr_static(cls, member, None)
            if type(raw).__name__ in {"Accessor", "CachedAccessor"}:
                role = "py:method"  # pandas documents accessors with its accessor template
            fullname = f"{path}.{member}"
            inv.obj(fullname, role, _pandas_page(fullname))

    for owner, accessor, accessor_path in _PANDAS_ACCESSORS:
        cls = _resolve(accessor_path)
        if not isinstance(cls, type):
            continue
        prefix = f"{owner}.{accessor}"
        inv.obj(prefix, "py:method", _pandas_page(prefix))
        for member in _class_members(cls, documented_only=True):
            role = _member_role(cls, member, properties="py:attribute")
            fullname = f"{prefix}.{member}"
            if role is None or fullname in _PANDAS_UNDOCUMENTED:
                continue
            inv.obj(fullname, role, _pandas_page(fullname))
    return inv


# --------------------------------------------------------------------------------------------
# scikit-learn: https://scikit-learn.org/stable/
# --------------------------------------------------------------------------------------------

#: Submodules documented on their parent's api/ page (``.. automodule::`` in a section).
_SKLEARN_SUBMODULES = (
    "sklearn.feature_extraction.image",
    "sklearn.feature_extraction.text",
    "sklearn.gaussian_process.kernels",
    "sklearn.metrics.cluster",
    "sklearn.metrics.pairwise",
    "sklearn.utils.arrayfuncs",
    "sklearn.utils.class_weight",
    "sklearn.utils.discovery",
    "sklearn.utils.estimator_checks",
    "sklearn.utils.extmath",
    "sklearn.utils.graph",
    "sklearn.utils.metadata_routing",
    "sklearn.utils.metaestimators",
    "sklearn.utils.multiclass",
    "sklearn.utils.parallel",
    "sklearn.utils.random",
    "sklearn.utils.sparsefuncs",
    "sklearn.utils.sparsefuncs_fast",
    "sklearn.utils.validation",
)
#: Objects that ``sklearn.metrics`` or ``sklearn.utils`` export but whose reference entry is
#: under the submodule that defines them (``sklearn.metrics.pairwise.euclidean_distances``,
#: ``sklearn.utils.validation.check_is_fitted``), except these, listed under the parent.
_SKLEARN_PARENT_NAMES = {
    "sklearn.metrics": {
        "pairwise_distances",
        "pairwise_distances_argmin",
        "pairwise_distances_argmin_min",
        "pairwise_distances_chunked",
    },
    "sklearn.utils": {
        "Bunch",
        "ClassifierTags",
        "InputTags",
        "RegressorTags",
        "Tags",
        "TargetTags",
        "TransformerTags",
        "_safe_indexing",
        "as_float_array",
        "assert_all_finite",
        "check_X_y",
        "check_array",
        "check_consistent_length",
        "check_random_state",
        "check_scalar",
        "deprecated",
        "estimator_html_repr",
        "gen_batches",
        "gen_even_slices",
        "get_tags",
        "indexable",
        "murmurhash3_32",
        "resample",
        "safe_mask",
        "safe_sqr",
        "shuffle",
    },
}
#: sklearn.metrics.cluster objects the reference lists under the submodule.
_SKLEARN_METRICS_CLUSTER_NAMES = {"contingency_matrix", "pair_confusion_matrix"}
#: Submodules of which the reference documents only some public functions.
_SKLEARN_ONLY = {
    "sklearn.utils.arrayfuncs": {"min_pos"},
    "sklearn.utils.estimator_checks": {"check_estimator", "parametrize_with_checks"},
    "sklearn.utils.extmath": {
        "density",
        "fast_logdet",
        "randomized_range_finder",
        "randomized_svd",
        "safe_sparse_dot",
        "weighted_mode",
    },
    "sklearn.utils.multiclass": {"is_multilabel", "type_of_target", "unique_labels"},
    "sklearn.utils.sparsefuncs": {
        "incr_mean_variance_axis",
        "inplace_column_scale",
        "inplace_csr_column_scale",
        "inplace_row_scale",
        "inplace_swap_column",
        "inplace_swap_row",
        "mean_variance_axis",
    },
    "sklearn.utils.sparsefuncs_fast": {
        "inplace_csr_row_normalize_l1",
        "inplace_csr_row_normalize_l2",
    },
}
#: Exported helpers the reference does not list.
_SKLEARN_UNDOCUMENTED = {
    "sklearn.cluster.get_bin_seeds",
    "sklearn.cluster.linkage_tree",
    "sklearn.covariance.fast_mcd",
    "sklearn.covariance.log_likelihood",
    "sklearn.decomposition.randomized_svd",
    "sklearn.feature_extraction.grid_to_graph",
    "sklearn.feature_extraction.img_to_graph",
    "sklearn.feature_extraction.text.strip_accents_ascii",
    "sklearn.feature_extraction.text.strip_accents_unicode",
    "sklearn.feature_extraction.text.strip_tags",
    "sklearn.feature_selection.f_oneway",
    "sklearn.metrics.cluster.entropy",
    "sklearn.metrics.cluster.expected_mutual_information",
    "sklearn.metrics.pairwise.check_paired_arrays",
    "sklearn.metrics.pairwise.check_pairwise_arrays",
}
#: Top-level subpackages that are not part of the API reference.
_SKLEARN_PRIVATE_SUBPACKAGES = {"externals"}
SKLEARN_PAGES = (
    ("api/index", "API Reference"),
    ("user_guide", "User Guide"),
    ("getting_started", "Getting Started"),
    ("glossary", "Glossary of Common Terms and API Elements"),
    ("common_pitfalls", "Common pitfalls and recommended practices"),
    ("modules/cross_validation", "Cross-validation: evaluating estimator performance"),
    ("modules/model_evaluation", "Metrics and scoring: quantifying the quality of predictions"),
)


def _sklearn_modules() -> list[str]:
    import sklearn

    names = ["sklearn"]
    for name in sorted(getattr(sklearn, "__all__", ())):
        if name.startswith("_") or name in _SKLEARN_PRIVATE_SUBPACKAGES:
            continue
        if _import(f"sklearn.{name}") is not None:
            names.append(f"sklearn.{name}")
    names.append("sklearn.base")
    names.append("sklearn.utils")
    # "sklearn" first, then alphabetical: where two modules export one object, the first wins.
    return ["sklearn", *sorted(set(names) - {"sklearn"})]


def _add_sklearn_class(inv: Inventory, fullname: str, cls: type) -> None:
    role = _object_role(cls)
    page = f"modules/generated/{fullname}.html"
    inv.obj(fullname, role, page)
    if role == "py:exception":
        return  # ``autoexception`` without members
    # base.rst: ``autoclass :members: :inherited-members: :special-members: __call__``.
    for member in _class_members(cls, documented_only=True, dunders=("__call__",)):
        member_role = _member_role(cls, member)
        if member_role is None:
            continue
        if member == "__call__" and "__call__" not in {
            n for klass in cls.__mro__[:-1] for n in vars(klass)
        }:
            continue
        inv.obj(f"{fullname}.{member}", member_role, page)


def _sklearn_exports(module_name: str, module: types.ModuleType) -> Iterator[tuple[str, object]]:
    """A module's documented objects: its ``__all__``, else what it defines itself."""
    declared = getattr(module, "__all__", None) is not None
    for name in _module_names(module):
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            if module_name == "sklearn.experimental" and name.startswith("enable_"):
                yield name, obj
            continue
        if not (isinstance(obj, type) or callable(obj)):
            continue
        home = getattr(obj, "__module__", None) or ""
        if not declared and not (home == module_name or home.startswith(f"{module_name}._")):
            continue  # imported, not defined here
        if module_name in _SKLEARN_ONLY and name not in _SKLEARN_ONLY[module_name]:
            continue
        if f"{module_name}.{name}" in _SKLEARN_UNDOCUMENTED:
            continue
        if module_name in _SKLEARN_PARENT_NAMES and _sklearn_defining_submodule(home, name):
            continue  # documented under the submodule, which exports it too
        yield name, obj


def _sklearn_defining_submodule(home: str, name: str) -> str | None:
    """The public submodule under which the reference documents ``name`` (defined in ``home``)."""
    for submodule in _SKLEARN_SUBMODULES:
        if home != submodule and not home.startswith(f"{submodule}."):
            continue
        parent = submodule.rsplit(".", 1)[0]
        if name in _SKLEARN_PARENT_NAMES.get(parent, ()):
            return None
        if submodule == "sklearn.metrics.cluster" and name not in _SKLEARN_METRICS_CLUSTER_NAMES:
            return None
        return submodule
    return None


def sklearn_inventory() -> Inventory:
    """Every public module of scikit-learn and what it exports, with class members."""
    # The reference documents the experimental estimators where they live once enabled.
    _import("sklearn.experimental.enable_halving_search_cv")
    _import("sklearn.experimental.enable_iterative_imputer")
    inv = Inventory("scikit-learn", _version("scikit-learn"))
    for docname, title in SKLEARN_PAGES:
        inv.doc(docname, title)

    modules = _sklearn_modules()
    seen: set[int] = set()
    for module_name in modules + list(_SKLEARN_SUBMODULES):
        module = _import(module_name)
        if module is None:
            continue
        if module_name in _SKLEARN_SUBMODULES:
            inv.module(module_name, f"api/{module_name.rsplit('.', 1)[0]}.html")
        else:
            inv.module(module_name, f"api/{module_name}.html")
        exports = list(_sklearn_exports(module_name, module))
        classes = {name.lower() for name, obj in exports if isinstance(obj, type)}
        for name, obj in exports:
            fullname = f"{module_name}.{name}"
            if inspect.ismodule(obj):
                inv.module(fullname, f"modules/generated/{fullname}.html")
                continue
            home = getattr(obj, "__module__", None) or ""
            if module_name == "sklearn" and home in modules and home != "sklearn":
                continue  # ``sklearn.clone`` is documented as ``sklearn.base.clone``
            # An object that a parent module also exports is documented there only
            # (``sklearn.metrics.silhouette_score``, not ``sklearn.metrics.cluster....``).
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, type):
                _add_sklearn_class(inv, fullname, obj)
            elif name.lower() in classes:
                # conf.py's autosummary_filename_map: a function whose name differs from a
                # class's only by case gets "<name>-function.html" (sklearn.cluster.dbscan).
                inv.obj(fullname, "py:function", f"modules/generated/{name.lower()}-function.html")
            else:
                inv.obj(fullname, "py:function", f"modules/generated/{fullname}.html")
    return inv


# --------------------------------------------------------------------------------------------
# PySpark: https://spark.apache.org/docs/latest/api/python/
# --------------------------------------------------------------------------------------------

#: pyspark.sql classes (reference/pyspark.sql/api/pyspark.sql.<Class>.html); the members of
#: these classes each have a page of their own in the same folder.
_PYSPARK_SQL_CLASSES_WITH_MEMBER_PAGES = (
    "Catalog",
    "Column",
    "DataFrame",
    "DataFrameNaFunctions",
    "DataFrameReader",
    "DataFrameStatFunctions",
    "DataFrameWriter",
    "DataFrameWriterV2",
    "GroupedData",
    "Observation",
    "Row",
    "SparkSession",
    "UDFRegistration",
    "Window",
    "WindowSpec",
)
#: Deprecated entry points and aliases the reference does not list.
_PYSPARK_SQL_UNDOCUMENTED = {"DataFrame.groupby", "HiveContext", "SQLContext", "is_remote"}
#: pyspark.ml modules (reference/api/pyspark.ml.<...>.html, members on the class page).
_PYSPARK_ML_MODULES = (
    "pyspark.ml",
    "pyspark.ml.classification",
    "pyspark.ml.clustering",
    "pyspark.ml.evaluation",
    "pyspark.ml.feature",
    "pyspark.ml.fpm",
    "pyspark.ml.functions",
    "pyspark.ml.linalg",
    "pyspark.ml.param",
    "pyspark.ml.recommendation",
    "pyspark.ml.regression",
    "pyspark.ml.stat",
    "pyspark.ml.tuning",
)
PYSPARK_PAGES = (
    ("index", "PySpark Overview"),
    ("getting_started/index", "Getting Started"),
    ("user_guide/index", "User Guides"),
    ("reference/index", "API Reference"),
    ("reference/pyspark.sql/index", "Spark SQL"),
    ("reference/pyspark.ml", "MLlib (DataFrame-based)"),
)


def _pyspark_sql_page(fullname: str) -> str:
    """``autosummary`` stub pages of the Spark SQL reference."""
    return f"reference/pyspark.sql/api/{fullname}.html"


def pyspark_inventory() -> Inventory:
    """pyspark.sql (session, DataFrame, Column, functions, Window, types) and pyspark.ml."""
    import pyspark.sql
    import pyspark.sql.functions
    import pyspark.sql.types

    inv = Inventory("PySpark", _version("pyspark"))
    for docname, title in PYSPARK_PAGES:
        inv.doc(docname, title)

    sql = pyspark.sql
    for name in _module_names(sql):
        if name in _PYSPARK_SQL_UNDOCUMENTED:
            continue
        obj = getattr(sql, name)
        if inspect.ismodule(obj):
            continue
        fullname = f"pyspark.sql.{name}"
        inv.obj(fullname, _object_role(obj), _pyspark_sql_page(fullname))
    for class_name in _PYSPARK_SQL_CLASSES_WITH_MEMBER_PAGES:
        cls = getattr(sql, class_name, None)
        if not isinstance(cls, type):
            continue
        builtin_names = {
            n for base in cls.__mro__ if base.__module__ == "builtins" for n in vars(base)
        }
        for member in _class_members(cls, dunders=("__getattr__", "__getitem__")):
            if f"{class_name}.{member}" in _PYSPARK_SQL_UNDOCUMENTED:
                continue
            if member in builtin_names and member not in vars(cls):
                continue  # ``Row.count`` is ``tuple.count``
            role = _member_role(cls, member)
            if role is None or not _has_doc(cls, member) and role != "py:attribute":
                continue
            raw = inspect.getattr_static(cls, member)
            if type(raw).__name__ == "classproperty":
                role = "py:property"
            fullname = f"pyspark.sql.{class_name}.{member}"
            inv.obj(fullname, role, _pyspark_sql_page(fullname))
    builder = type(sql.SparkSession.builder)
    for member in _class_members(builder, inherited=False, documented_only=True):
        role = _member_role(builder, member)
        if role == "py:method":
            fullname = f"pyspark.sql.SparkSession.builder.{member}"
            inv.obj(fullname, role, _pyspark_sql_page(fullname))

    functions = pyspark.sql.functions
    for name in _module_names(functions):
        obj = getattr(functions, name)
        if inspect.isroutine(obj):
            fullname = f"pyspark.sql.functions.{name}"
            inv.obj(fullname, "py:function", _pyspark_sql_page(fullname))

    # Data types use the class_with_docs template: members are anchors on the class page.
    data_types = pyspark.sql.types
    for name in _module_names(data_types):
        obj = getattr(data_types, name)
        if not (
            isinstance(obj, type)
            and (issubclass(obj, data_types.DataType) or obj is data_types.StructField)
        ):
            continue
        fullname = f"pyspark.sql.types.{name}"
        page = _pyspark_sql_page(fullname)
        inv.obj(fullname, "py:class", page)
        for member in _class_members(obj):
            role = _member_role(obj, member, properties="py:attribute")
            if role is not None:
                inv.obj(f"{fullname}.{member}", role, page)

    for module_name in _PYSPARK_ML_MODULES:
        module = _import(module_name)
        if module is None:
            continue
        for name in _module_names(module):
            obj = getattr(module, name)
            fullname = f"{module_name}.{name}"
            page = f"reference/api/{fullname}.html"
            if isinstance(obj, type):
                inv.obj(fullname, _object_role(obj), page)
                for member in _class_members(obj):
                    role = _member_role(obj, member, properties="py:attribute")
                    if role is not None:
                        inv.obj(f"{fullname}.{member}", role, page)
            elif inspect.isroutine(obj):
                inv.obj(fullname, "py:function", page)
    return inv


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

#: File stem (the intersphinx_mapping key) -> inventory builder.
INVENTORIES: dict[str, Callable[[], Inventory]] = {
    "python": python_inventory,
    "numpy": numpy_inventory,
    "pandas": pandas_inventory,
    "sklearn": sklearn_inventory,
    "pyspark": pyspark_inventory,
}


def build(name: str) -> Inventory:
    """Build one inventory with the libraries' import-time and deprecation warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return INVENTORIES[name]()


def write(out: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write ``<out>/<name>.inv`` for each inventory; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names or INVENTORIES:
        path = out / f"{name}.inv"
        path.write_bytes(build(name).dumps())
        written[name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mle_handbook.inventories",
        description="Write offline intersphinx inventories for the installed Python, NumPy, "
        "pandas, scikit-learn and PySpark.",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder (default: %(default)s)"
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"inventories to write (default: all of {', '.join(INVENTORIES)})",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(INVENTORIES))
    if unknown:
        parser.error(f"unknown inventory: {', '.join(unknown)}")
    for path in write(args.out, args.names or None).values():
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
