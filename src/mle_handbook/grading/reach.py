"""What a submission's code reaches, read before it runs: reasons for a person to review it, and
flags worth a look.

**Review.** Forging the kernel's reply, undoing the guard or signalling other processes needs code
that names what it reaches (the instructors' guide, "Why the kernel cannot forge a result"):
:func:`review_reasons` lists each such reach (status ``review``). Honest answers never need any.

**Flags.** :func:`flags` points a person at constructs worth a look (the ``flags`` column). They
change no mark and prove nothing (``open(`` may read a data file), but a determined attempt to
defeat the in-process checks is likely to be noticed.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import sys

from .analysis import python_ast


def _reasons(groups: dict[str, str]) -> dict[str, str]:
    """``{"the reason": "name name ..."}`` as ``{name: "the reason"}``."""
    return {name: why for why, names in groups.items() for name in names.split()}


#: Modules whose import is a reason for review (top-level names).
MODULES = _reasons(
    {
        "the kernel's messaging": "ipykernel jupyter_client jupyter_core zmq comm tornado",
        "the kernel's configuration": "traitlets",
        "sockets": "socket _socket",
        "the garbage collector": "gc",
        "raw memory": "ctypes _ctypes cffi mmap",
        "frames and code objects": "inspect",
        "code objects": "dis",
        "code and function objects": "types",
        "hidden code": "marshal pickle _pickle cloudpickle dill shelve copyreg runpy code codeop "
        "timeit doctest cProfile profile trace joblib",
        "dynamic imports": "importlib zipimport pkgutil",
        "the builtins": "builtins",
        "signals": "signal _signal",
        "processes": "subprocess _posixsubprocess pty multiprocessing concurrent psutil posix "
        "webbrowser",
        "file descriptors": "fcntl",
        "the kernel's limits": "resource",
        "the debugger": "pdb bdb",
        "objects by name": "pydoc",
    }
)
#: IPython: only its display tools.
IPYTHON_ALLOWED = ("IPython.display", "IPython.core.display")

#: Attribute names that reach the kernel's messaging, the guard, frames or processes.
ATTRIBUTES = _reasons(
    {
        "the kernel's messaging": "kernel session get_parent parent_header pub_socket pub_thread "
        "iopub_socket iopub_thread shell_stream shell_streams control_stream control_thread "
        "shell_socket send_multipart displayhook display_pub excepthook set_custom_exc "
        "ast_transformers input_transformers_post input_transformers_cleanup comm_manager "
        "user_ns_hidden run_cell run_cell_async run_code",
        "the interpreter's internals": "f_back f_globals f_locals f_builtins f_code tb_frame "
        "gi_frame cr_frame ag_frame gi_code cr_code _getframe _current_frames __globals__ "
        "__code__ __closure__ __dict__ __subclasses__ __bases__ __base__ __mro__ __builtins__ "
        "__getattribute__ __self__ __func__ __loader__ modules meta_path path_hooks settrace "
        "setprofile addaudithook attrgetter methodcaller path_importer_cache get_type_hints "
        "ctypeslib ctypes read_pickle get_ipython create_subprocess_exec "
        "create_subprocess_shell subprocess_exec subprocess_shell",
    }
)
#: Attributes with a leading underscore that are public API (``os._exit`` only stops the kernel).
PUBLIC = {"_exit", "_asdict", "_replace", "_fields", "_make"}
#: ``os`` functions that reach processes, signals or raw file descriptors.
OS_FUNCTIONS = set(
    "system popen fork forkpty kill killpg getppid setsid setpgid setpgrp execv execve execl "
    "execle execlp execlpe execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve "
    "spawnvp spawnvpe posix_spawn posix_spawnp dup dup2 fdopen write pidfd_open "
    "register_at_fork startfile".split()
)
#: Builtins that run hidden code or reach objects by computed names.
BUILTINS = _reasons(
    {
        "hidden code": "exec eval compile",
        "dynamic imports": "__import__",
        "the debugger": "breakpoint",
        "the interpreter's internals": "globals locals vars",
        "the builtins": "__builtins__",
        "the kernel's messaging": "get_ipython",
    }
)
#: getattr-like builtins: fine with a constant name that is not in ATTRIBUTES.
NAMED_ACCESS = ("getattr", "setattr", "delattr", "hasattr")
#: Magics that are fine (the ones whose argument is Python are read as Python).
SAFE_MAGICS = {"matplotlib": False, "config": False, "time": True, "timeit": True, "capture": True}


@functools.cache
def _installed(module: str) -> bool:
    """Whether ``module`` is installed for the grader (not a file the submission could write)."""
    top = module.split(".")[0]
    if top in sys.builtin_module_names or top in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _magic_call(node: ast.Call) -> tuple[str, list[str]] | None:
    """``get_ipython().run_line_magic('name', 'text')``: the magic's name and its text arguments."""
    func = node.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in ("run_line_magic", "run_cell_magic")
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return None
    texts = [
        a.value for a in node.args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    return node.args[0].value, texts


class _Reader(ast.NodeVisitor):
    def __init__(self, local_modules: set[str]):
        self.reasons: dict[str, None] = {}
        self.os_names: set[str] = set()  # names bound to the os module
        self.local_modules = local_modules

    def add(self, what: str, why: str) -> None:
        self.reasons[f"{what} ({why})"] = None

    def _module(self, name: str) -> None:
        top = name.split(".")[0]
        if top in MODULES:
            self.add(f"imports {name}", MODULES[top])
        elif top == "IPython" and not name.startswith(IPYTHON_ALLOWED):
            self.add(f"imports {name}", "the kernel's messaging")
        elif top in self.local_modules or not _installed(name):
            self.add(f"imports {name}", "a module that is not installed: a file it wrote?")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name)
            if alias.name == "os":
                self.os_names.add(alias.asname or "os")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add("a relative import", "a file it wrote?")
            return
        module = node.module or ""
        self._module(module)
        for alias in node.names:
            if module == "IPython" and alias.name != "display":
                self.add(f"imports IPython.{alias.name}", "the kernel's messaging")
            if module in ("os", "posix") and alias.name in OS_FUNCTIONS | {"*"}:
                self.add(f"imports os.{alias.name}", "processes and signals")
            if module == "sys" and alias.name in ATTRIBUTES | {"*"}:
                self.add(f"imports sys.{alias.name}", "the interpreter's internals")
            if alias.name in ATTRIBUTES and module not in ("os", "sys"):
                self.add(f"imports {module}.{alias.name}", ATTRIBUTES[alias.name])

    def visit_Call(self, node: ast.Call) -> None:
        magic = _magic_call(node)
        if magic is not None:
            name, texts = magic
            if name not in SAFE_MAGICS:
                self.add(f"the magic %{name}", "commands or code this reading cannot see")
            elif SAFE_MAGICS[name]:
                for text in texts:
                    tree = python_ast(text)
                    if tree is None:
                        self.add(f"the magic %{name}", "code this reading cannot see")
                    else:
                        self.visit(tree)
            for arg in node.args[1:]:
                self.visit(arg)
            return
        if (
            isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "open"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, int)
        ):
            self.add("open() of a file descriptor", "the kernel's own connections")
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("eval", "query"):
            text = node.args[0] if node.args else None
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                tree = python_ast(text.value.replace("@", ""))
                if tree is not None:
                    self.visit(tree)
            else:
                self.add(f".{node.func.attr} of a computed text", "code this reading cannot see")
        if isinstance(node.func, ast.Name) and node.func.id in NAMED_ACCESS:
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.add(f"{node.func.id} with a computed name", "objects this reading cannot see")
            elif name.value in ATTRIBUTES:
                self.add(f"{node.func.id}(..., {name.value!r})", ATTRIBUTES[name.value])
            for arg in node.args:
                self.visit(arg)
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in BUILTINS:
            self.add(node.id, BUILTINS[node.id])
        elif node.id in NAMED_ACCESS:
            self.add(f"{node.id} used as a value", "objects this reading cannot see")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ATTRIBUTES:
            self.add(f".{node.attr}", ATTRIBUTES[node.attr])
        elif (
            node.attr.startswith("_") and not node.attr.startswith("__") and node.attr not in PUBLIC
        ):
            self.add(f".{node.attr}", "private attributes of other code")
        if (
            isinstance(node.value, ast.Name)
            and node.value.id in self.os_names
            and node.attr in OS_FUNCTIONS
        ):
            self.add(f"os.{node.attr}", "processes and signals")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        self._path(node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self._path(_folded(node))
        self.generic_visit(node)

    def _path(self, text) -> None:
        if isinstance(text, str) and ("/proc" in text or text.strip("/") == "proc"):
            self.add("the path /proc", "other processes")

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg == "allow_pickle":
            self.add("allow_pickle", "hidden code")
        self.generic_visit(node)


def _folded(node: ast.AST) -> str | None:
    """The text of a sum of string constants (``'/pr' + 'oc'``), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _folded(node.left), _folded(node.right)
        return left + right if left is not None and right is not None else None
    return None


def review_reasons(sources: list[str], *, local_modules: set[str] = frozenset()) -> list[str]:
    """Why the code of ``sources`` (the student's cells) needs a person's review; [] if it does not.

    ``local_modules`` are modules that would be files in the kernel's working folder (the
    exercise's data files' stems): importing one runs a file, not an installed module.
    """
    reader = _Reader(set(local_modules))
    for source in sources:
        tree = python_ast(source)
        if tree is None:
            continue  # it cannot run either: IPython reports the syntax error
        reader.visit(tree)
    return list(reader.reasons)


# -- flags ---------------------------------------------------------------------------------------

#: (flag, pattern) pairs; the flag is what the grade sheet and the instructor's notes show.
PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "frame access",
        r"\bsys\._getframe\b|\binspect\.(?:currentframe|stack|getouterframes)\b|\bf_back\b|\bf_globals\b|\bf_locals\b",
    ),
    ("tracing", r"\b(?:sys|threading)\.set(?:trace|profile)\b"),
    (
        "IPython internals",
        r"\bget_ipython\s*\(|\bset_custom_exc\b|\bevents\.register\b|\bast_transformers\b",
    ),
    ("builtins", r"\b__builtins__\b|\bimport\s+builtins\b|\bbuiltins\."),
    ("interpreter hooks", r"\bsys\.(?:excepthook|displayhook|stdout|stderr|modules|meta_path)\b"),
    ("code objects", r"\b__code__\b|\bCodeType\b|\b__globals__\b"),
    ("dynamic code", r"\b(?:exec|eval|compile)\s*\(|\b__import__\s*\(|\bimportlib\b"),
    ("object graph", r"\bgc\.get_(?:objects|referrers|referents)\b|\bctypes\b"),
    ("exiting", r"\bos\._exit\b|\bsys\.exit\b|(?<![\w.])(?:exit|quit)\s*\("),
    (
        "processes",
        r"\bsubprocess\b|\bos\.(?:system|popen|fork|kill|exec\w*)\b|\bsignal\.signal\b|\bmultiprocessing\b",
    ),
    (
        "files",
        r"\bopen\s*\(|\bPath\s*\(|\bos\.(?:remove|unlink|rename|replace|walk|listdir|scandir)\b|\bshutil\.|\bglob\b",
    ),
    (
        "monkeypatching",
        r"^\s*(?:np|numpy|math|sklearn|pd|pandas|scipy|numbers|random)\.[\w.]+\s*=[^=]|\bsetattr\s*\(",
    ),
    ("swallowed errors", r"except\s*(?:BaseException|AssertionError)?\s*:\s*(?:\n\s*)?pass\b"),
)
_COMPILED = tuple((flag, re.compile(p, re.M)) for flag, p in PATTERNS)


def flags(code: str) -> list[str]:
    """The flags whose pattern occurs in ``code``, in the order of :data:`PATTERNS`."""
    return [flag for flag, regex in _COMPILED if regex.search(code)]
