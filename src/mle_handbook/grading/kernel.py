"""A fresh, limited kernel in a scratch folder that holds only what the exercise needs.

:class:`Scratch` makes a private temporary folder (outside the course folder, with a random name)
with the exercise's declared data files in ``work/`` (the kernel's working folder) and private
``home/``, ``tmp/`` and ``run/`` (connection file and sockets) folders; it never contains the source
exercise or the submission file. :class:`Kernel` starts an IPython kernel there through
:mod:`mle_handbook.grading.launcher` (memory and file-size limits, Landlock confinement where the
operating system offers it), with a scrubbed environment, and runs code with a timeout, capped
output and detection of a kernel that died. Nothing here decides marks; :mod:`.runner` does.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from time import monotonic

import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from ..exercises.execute import KERNEL_ARGUMENTS, strip_ansi


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Every default can be changed from ``mle-handbook grade``."""

    timeout: float = 60.0  # seconds per cell
    memory_mb: int | None = 4096  # address space of the kernel process (RLIMIT_AS)
    file_mb: int | None = 64  # largest file the kernel may write (RLIMIT_FSIZE)
    output_chars: int = 10_000  # output kept per cell, for feedback
    max_output_chars: int = 20_000_000  # output received per kernel before it is stopped
    startup_timeout: float = 120.0
    #: After a timeout, how long an interrupted cell may take to stop before the kernel is killed.
    interrupt_grace: float = 5.0
    #: Restrict the kernel's file access with Landlock when available.
    confine: bool = True


#: Environment variables passed to kernels; everything else (tokens, paths of the course, the
#: shell's working folder) is left out.
_PASSED_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "JAVA_HOME")
_PASSED_PREFIXES = ("LC_", "SPARK_", "PYSPARK_")
#: One thread per numerical library per kernel: kernels run side by side, one per core.
_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class Scratch:
    """A private folder for one kernel: ``work/`` (the data files), ``home/``, ``tmp/``, ``run/``."""

    def __init__(self, data: dict[str, Path] | None = None, *, parent: str | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="mle-grade-", dir=parent))
        self.work, self.home, self.tmp, self.run = (
            self.root / name for name in ("work", "home", "tmp", "run")
        )
        for folder in (self.work, self.home, self.tmp, self.run):
            folder.mkdir(mode=0o700)
        for name, source in (data or {}).items():
            target = self.work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in _PASSED_VARIABLES or k.startswith(_PASSED_PREFIXES)
        }
        env.update(
            HOME=str(self.home),
            TMPDIR=str(self.tmp),
            MPLCONFIGDIR=str(self.home / ".matplotlib"),
            IPYTHONDIR=str(self.home / ".ipython"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            PYTHONDONTWRITEBYTECODE="1",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
            MALLOC_ARENA_MAX="2",
        )
        env.update(dict.fromkeys(_THREADS, "1"))
        env.update(extra or {})
        return env

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def read_roots(hidden: list[Path]) -> list[str]:
    """Folders a confined kernel may read: the system's and Python's, minus any holding ``hidden``.

    A folder is dropped if one of ``hidden`` (the source exercise, the submissions, the results)
    lies inside it: the kernel must not be able to read them.
    """
    candidates = [
        Path(p) for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt")
    ]
    candidates += [Path(p) for p in ("/proc", "/sys", "/run", "/var/lib", "/snap", "/nix")]
    candidates += [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    candidates += [Path(p) for p in site.getsitepackages() + [site.getusersitepackages()]]
    # Where this package and the kernel's own packages are installed (an editable install of
    # the handbook lives outside site-packages).
    import ipykernel

    for module in (sys.modules[__name__.split(".")[0]], ipykernel):
        candidates.append(Path(module.__file__).resolve().parent.parent)
    hidden = [p.resolve() for p in hidden]
    roots = []
    for path in candidates:
        try:
            path = path.resolve()
        except OSError:
            continue
        if not path.exists() or any(h == path or path in h.parents for h in hidden):
            continue
        if str(path) not in roots:
            roots.append(str(path))
    return roots


class _OneSpec(KernelSpecManager):
    """A kernel spec manager that knows one in-memory spec: the grading kernel."""

    def __init__(self, spec: KernelSpec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self._spec


@dataclass
class Reply:
    """What came back from one execute request."""

    status: str  # "ok", "error", "timeout", "dead", "output-limit"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    user_expressions: dict = field(default_factory=dict)
    execution_count: int | None = None
    #: An ``error`` output was published (a traceback the student sees in Jupyter).
    error_shown: bool = False
    #: The kernel was killed (it would not stop after a timeout, or produced too much output).
    killed: bool = False
    exit_code: int | None = None
    #: The kernel was already dead when this request was to be sent (the previous cell killed it).
    dead_before: bool = False

    @property
    def plain_traceback(self) -> str:
        return strip_ansi("\n".join(self.traceback))


class Kernel:
    """One grading kernel in one :class:`Scratch` folder; use ``async with``."""

    def __init__(
        self,
        scratch: Scratch,
        limits: Limits,
        *,
        env: dict[str, str] | None = None,
        hidden: list[Path] | None = None,
    ):
        self.scratch = scratch
        self.limits = limits
        self.env = scratch.environment(env)
        self.hidden = hidden or []
        self.km: AsyncKernelManager | None = None
        self.kc = None
        self.pgid: int | None = None
        self.output_chars = 0
        self.log = scratch.run / "kernel.log"

    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "mle_handbook.grading.launcher"]
        if self.limits.memory_mb:
            argv += ["--memory-mb", str(self.limits.memory_mb)]
        if self.limits.file_mb:
            argv += ["--file-mb", str(self.limits.file_mb)]
        if self.limits.confine:
            for path in read_roots(self.hidden):
                argv += ["--read", path]
            for path in (self.scratch.work, self.scratch.home, self.scratch.tmp, self.scratch.run):
                argv += ["--write", str(path)]
            # Devices (/dev/null, /dev/urandom) can be used; POSIX semaphores and shared memory
            # (multiprocessing, joblib) live in /dev/shm.
            argv += ["--device", "/dev", "--write", "/dev/shm"]
        argv += ["--", "-f", "{connection_file}", *KERNEL_ARGUMENTS]
        # Like nbgrader: no history database on disk, and a quiet start.
        argv += ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
        return argv

    async def start(self) -> None:
        spec = KernelSpec(argv=self._argv(), display_name="mle-handbook grading", language="python")
        self.km = AsyncKernelManager(
            kernel_name="mle-handbook-grading",
            kernel_spec_manager=_OneSpec(spec),
            transport="ipc",
            ip=str(self.scratch.run / "k"),
            connection_file=str(self.scratch.run / "kernel.json"),
        )
        with open(self.log, "ab") as log:
            await self.km.start_kernel(
                env=self.env,
                cwd=str(self.scratch.work),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        self.pgid = getattr(self.km.provisioner, "pgid", None)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            await self.kc.wait_for_ready(timeout=self.limits.startup_timeout)
        except RuntimeError as exc:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"the grading kernel did not start: {exc}\n{tail}") from None

    async def alive(self) -> bool:
        return self.km is not None and await self.km.is_alive()

    async def kill(self) -> None:
        """Stop the kernel and everything it started (its whole process group)."""
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            try:
                if self.km.has_kernel:
                    await self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - the process group is killed below in any case
                pass
            try:
                await self.km.cleanup_resources()
            except Exception:  # noqa: BLE001 - a connection file left in the scratch folder goes with it
                pass
            self.km = None
        if self.pgid:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.pgid = None

    async def __aenter__(self) -> Kernel:
        try:
            await self.start()
        except BaseException:
            await self.kill()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.kill()

    # -- running code -----------------------------------------------------------------------

    def _keep(self, reply: Reply, kept: dict, output: dict) -> None:
        """Add one output to the reply, within the per-cell character budget."""
        budget = self.limits.output_chars - kept["chars"]
        if output["output_type"] == "stream":
            text = output["text"]
            kept["chars"] += len(text)
            if budget <= 0:
                kept["truncated"] = True
                return
            if len(text) > budget:
                text, kept["truncated"] = text[:budget], True
            last = reply.outputs[-1] if reply.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == output["name"]:
                last["text"] += text
            else:
                reply.outputs.append({**output, "text": text})
            return
        size = sum(len(v) if isinstance(v, str) else 0 for v in output.get("data", {}).values())
        kept["chars"] += size
        if size > budget:
            kept["truncated"] = True
            return
        reply.outputs.append(output)

    async def execute(
        self,
        code: str,
        *,
        timeout: float,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
    ) -> Reply:
        """Run ``code``; never raises for what the code does (see :attr:`Reply.status`)."""
        kc = self.kc
        if kc is None or not await self.alive():
            return Reply(
                "dead",
                "DeadKernelError",
                "the kernel had stopped before this cell",
                dead_before=True,
                exit_code=await self._exit_code(),
            )
        msg_id = kc.execute(
            code,
            silent=silent,
            store_history=store_history,
            user_expressions=user_expressions or {},
            allow_stdin=False,
            stop_on_error=False,
        )
        reply = Reply("ok")
        kept = {"chars": 0, "truncated": False}
        shell_reply = None
        idle = False
        deadline = monotonic() + timeout
        interrupted = False
        poller = zmq.asyncio.Poller()
        poller.register(kc.iopub_channel.socket, zmq.POLLIN)
        poller.register(kc.shell_channel.socket, zmq.POLLIN)
        while shell_reply is None or not idle:
            remaining = deadline - monotonic()
            if remaining <= 0:
                if not interrupted:
                    interrupted = True
                    reply.status = "timeout"
                    try:
                        await self.km.interrupt_kernel()
                    except Exception:  # noqa: BLE001 - a kernel that cannot be interrupted is killed
                        pass
                    deadline = monotonic() + self.limits.interrupt_grace
                    continue
                await self.kill()
                reply.killed = True
                break
            events = dict(await poller.poll(min(remaining, 1.0) * 1000))
            if not events and not await self.alive():
                reply.status = "dead"
                reply.exit_code = await self._exit_code()
                break
            if kc.iopub_channel.socket in events:
                while True:
                    try:
                        msg = await kc.iopub_channel.get_msg(timeout=0)
                    except Empty:
                        break
                    idle |= self._on_iopub(msg, msg_id, reply, kept)
                if self.output_chars > self.limits.max_output_chars:
                    await self.kill()
                    reply.status, reply.killed = "output-limit", True
                    break
            if kc.shell_channel.socket in events:
                try:
                    msg = await kc.shell_channel.get_msg(timeout=0)
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    shell_reply = msg["content"]
        if kept["truncated"]:
            reply.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "\n[output truncated by the grader]\n",
                }
            )
        if shell_reply is not None:
            reply.execution_count = shell_reply.get("execution_count")
            reply.user_expressions = shell_reply.get("user_expressions") or {}
            if reply.status == "ok":
                reply.status = "ok" if shell_reply.get("status") == "ok" else "error"
            if shell_reply.get("status") != "ok":
                reply.ename = reply.ename or str(shell_reply.get("ename", "Error"))
                reply.evalue = reply.evalue or str(shell_reply.get("evalue", ""))
                reply.traceback = reply.traceback or list(shell_reply.get("traceback") or [])
        return reply

    def _on_iopub(self, msg: dict, msg_id: str, reply: Reply, kept: dict) -> bool:
        """Handle one IOPub message; True when it says the request is finished."""
        content = msg.get("content", {})
        kind = msg.get("msg_type")
        size = len(content.get("text", "")) if kind == "stream" else 0
        if kind in ("display_data", "execute_result", "update_display_data"):
            size = sum(
                len(v) if isinstance(v, str) else 0 for v in content.get("data", {}).values()
            )
        self.output_chars += size
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            return False
        if kind == "status":
            return content.get("execution_state") == "idle"
        if kind == "stream":
            self._keep(
                reply,
                kept,
                {
                    "output_type": "stream",
                    "name": content.get("name", "stdout"),
                    "text": content.get("text", ""),
                },
            )
        elif kind in ("display_data", "execute_result"):
            self._keep(
                reply,
                kept,
                {
                    "output_type": kind,
                    "data": content.get("data", {}),
                    "metadata": content.get("metadata", {}),
                },
            )
        elif kind == "error":
            reply.error_shown = True
            reply.ename = str(content.get("ename", "Error"))
            reply.evalue = str(content.get("evalue", ""))
            reply.traceback = [str(line) for line in content.get("traceback", [])][-200:]
        elif kind == "clear_output":
            reply.outputs.clear()
            kept["chars"] = 0
        return False

    async def _exit_code(self) -> int | None:
        try:
            return await self.km.provisioner.poll() if self.km and self.km.provisioner else None
        except Exception:  # noqa: BLE001
            return None
