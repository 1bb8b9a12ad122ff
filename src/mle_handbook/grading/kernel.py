"""A fresh, limited, isolated kernel in a :class:`~.sandbox.Scratch` folder, and what comes back
from it for one request (:class:`Reply`).

":class:`Kernel` starts an IPython kernel through :mod:`.launcher`, in the namespaces
:mod:`.sandbox` makes, with a scrubbed environment. It runs code with a timeout, counts every IOPub
message against the output cap (a stream by its text, anything else by its content's size),
refuses a single message larger than the cap before it is read into memory, and detects a kernel
that died. Nothing here decides marks (:mod:`.session` does).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from time import monotonic

import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from ..exercises.execute import KERNEL_ARGUMENTS
from .sandbox import Limits, Scratch, choose, read_roots

#: The longest exception value and traceback line kept from a reply (the rest is cut).
_TEXT_LIMIT = 20_000


@dataclass
class Reply:
    """What came back from one execute request."""

    status: str  # "ok", "error", "timeout", "dead", "output-limit"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    user_expressions: dict = field(default_factory=dict)
    execution_count: int | None = None
    #: An ``error`` output was published (a traceback the student sees in Jupyter).
    error_shown: bool = False
    #: The kernel was killed (it would not stop after a timeout, or produced too much output).
    killed: bool = False
    exit_code: int | None = None
    #: The kernel was already dead when this request was to be sent (the previous cell killed it).
    dead_before: bool = False

    def take_error(self, content: dict, *, keep: bool = False) -> None:
        """An error's name, value and traceback (cut to size); with ``keep``, only those not set."""
        lines = content.get("traceback")
        lines = [cut(line) for line in (lines if isinstance(lines, list) else [])[-200:]]
        self.ename = (keep and self.ename) or cut(content.get("ename", "Error"), 200)
        self.evalue = (keep and self.evalue) or cut(content.get("evalue", ""))
        self.traceback = (keep and self.traceback) or lines


def _size(value) -> int:
    """Characters an output value takes, whatever its type (text, bytes, JSON, a list of lines)."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return len(str(value))


def cut(text, limit: int = _TEXT_LIMIT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def plain_text(expression, default: str = "") -> str:
    """The ``text/plain`` of a user expression's result (``default`` when it is not well formed)."""
    data = expression.get("data") if isinstance(expression, dict) else None
    value = data.get("text/plain") if isinstance(data, dict) else None
    return value if isinstance(value, str) else default


def parent_id(msg) -> str | None:
    """The id of the request a message answers (None for one that is not well formed)."""
    parent = msg.get("parent_header") if isinstance(msg, dict) else None
    value = parent.get("msg_id") if isinstance(parent, dict) else None
    return value if isinstance(value, str) else None


def _message_size(msg: dict) -> int:
    """What an IOPub message counts against the output cap."""
    content = msg.get("content")
    if msg.get("msg_type") == "stream" and isinstance(content, dict):
        return _size(content.get("text", ""))
    buffers = msg.get("buffers")
    return _size(content) + sum(_size(b) for b in buffers if isinstance(buffers, list))


def _on_iopub(msg: dict, msg_id: str, reply: Reply) -> bool:
    """Take what ``reply`` needs from an IOPub message; True when it says the request is finished."""
    content = msg.get("content")
    if parent_id(msg) != msg_id or not isinstance(content, dict):
        return False
    if msg.get("msg_type") == "status":
        return content.get("execution_state") == "idle"
    if msg.get("msg_type") == "error":
        reply.error_shown = True
        reply.take_error(content)
    return False


class _OneSpec(KernelSpecManager):
    """A kernel spec manager that knows one in-memory spec: the grading kernel."""

    def __init__(self, spec: KernelSpec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self._spec


class Kernel:
    """One grading kernel in one :class:`Scratch` folder."""

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
        self.isolation, self.prefix = choose(network=limits.network, wanted=limits.isolate)
        self.km: AsyncKernelManager | None = None
        self.kc = None
        self.context: zmq.asyncio.Context | None = None
        self.pgid: int | None = None
        self.output = 0  # characters of output received, against the cap
        self.log = scratch.run / "kernel.log"
        self._monitors: list = []
        #: Requests already answered, and replies that came again for one of them (forged).
        self.answered: set[str] = set()
        self.forged_replies = 0

    def _argv(self) -> list[str]:
        argv = [*self.prefix, sys.executable, "-m", "mle_handbook.grading.launcher"]
        if self.isolation != "none":
            argv += ["--own-group"]
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
        # An isolated kernel leads its own process group inside its namespace: a signal to the
        # launcher's group would stop the namespace's outer process (and the namespace with it),
        # so interrupts travel as messages and the kernel signals its own group.
        spec = KernelSpec(
            argv=self._argv(),
            display_name="mle-handbook grading",
            language="python",
            interrupt_mode="message" if self.isolation != "none" else "signal",
        )
        # No message larger than the output cap is ever read into memory: ZeroMQ drops the
        # connection instead, which the monitors below report.
        self.context = zmq.asyncio.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, self.limits.max_output_chars + 1_000_000)
        self.km = AsyncKernelManager(
            kernel_name="mle-handbook-grading",
            kernel_spec_manager=_OneSpec(spec),
            transport="ipc",
            ip=str(self.scratch.run / "k"),
            connection_file=str(self.scratch.run / "kernel.json"),
            context=self.context,
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
        self._monitors = [
            channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            for channel in (self.kc.iopub_channel, self.kc.shell_channel)
        ]
        try:
            await self.kc.wait_for_ready(timeout=self.limits.startup_timeout)
        except RuntimeError as exc:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"the grading kernel did not start: {exc}\n{tail}") from None

    async def drain(self) -> None:
        """Read what the kernel sent after the last reply (a late forged reply counts)."""
        if self.kc is not None:
            for msg in await _pending(self.kc.shell_channel):
                self.forged_replies += parent_id(msg) in self.answered

    async def alive(self) -> bool:
        return self.km is not None and await self.km.is_alive()

    async def kill(self) -> None:
        """Stop the kernel and everything it started (its namespace, or its process group)."""
        for monitor in self._monitors:
            monitor.close(linger=0)
        self._monitors = []
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.pgid:
            # The launcher's group: the namespace's outer process (whose end kills everything in
            # the namespace), or, without isolation, the kernel and what stayed in its group.
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)
            self.pgid = None
        if self.km is not None:
            # Already killed above; a connection file left behind goes with the scratch folder.
            with suppress(Exception):
                if self.km.has_kernel:
                    await self.km.shutdown_kernel(now=True)
            with suppress(Exception):
                await self.km.cleanup_resources()
            self.km = None
        if self.context is not None:
            self.context.destroy(linger=0)
            self.context = None

    # -- running code -----------------------------------------------------------------------

    async def _disconnected(self) -> bool:
        """Whether ZeroMQ dropped a channel of a live kernel (it sent a message over the cap)."""
        dropped = False
        for monitor in self._monitors:
            while True:
                try:
                    await monitor.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                dropped = True
        return dropped and await self.alive()

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
                    with suppress(Exception):  # one that cannot be interrupted is killed below
                        await self.km.interrupt_kernel()
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
                for msg in await _pending(kc.iopub_channel):
                    self.output += _message_size(msg)
                    idle |= _on_iopub(msg, msg_id, reply)
            if self.output > self.limits.max_output_chars or await self._disconnected():
                await self.kill()
                reply.status, reply.killed = "output-limit", True
                break
            if kc.shell_channel.socket in events:
                for msg in await _pending(kc.shell_channel):
                    parent = parent_id(msg)
                    if parent in self.answered or (parent == msg_id and shell_reply is not None):
                        # A second reply to one request can only have been forged by the code
                        # that ran (it holds the kernel's key).
                        self.forged_replies += 1
                    elif parent == msg_id:
                        content = msg.get("content")
                        shell_reply = content if isinstance(content, dict) else {"status": "error"}
        self.answered.add(msg_id)
        if shell_reply is not None:
            reply.execution_count = shell_reply.get("execution_count")
            expressions = shell_reply.get("user_expressions")
            reply.user_expressions = expressions if isinstance(expressions, dict) else {}
            if shell_reply.get("status") != "ok":
                reply.status = "error" if reply.status == "ok" else reply.status
                reply.take_error(shell_reply, keep=True)
        return reply

    async def _exit_code(self) -> int | None:
        try:
            return await self.km.provisioner.poll() if self.km and self.km.provisioner else None
        except Exception:  # noqa: BLE001
            return None


async def _pending(channel) -> list[dict]:
    """The messages waiting on a channel, without waiting for more."""
    messages = []
    while True:
        try:
            messages.append(await channel.get_msg(timeout=0))
        except Empty:
            return messages
