"""Run one assembled submission in a sandboxed kernel and decide, check by check, what passed.

How a check is decided (each step is there because a simpler rule can be fooled):

1. Before every cell the exercise owns, a silent request asks the in-kernel guard
   (:mod:`.guard`) to restore the checking machinery and report what it had to restore.
2. The test cell runs with the source's text (hidden tests included) plus one last line that asks
   the guard to verify nothing changed *during* the check (it raises ``ChecksTampered`` if so).
3. The same request carries a ``user_expressions`` entry with a random nonce that the grader made
   for this check alone: the kernel evaluates it only after the cell finished without an exception,
   and it asks the guard to hand the nonce back only if the cell's last line (step 2) ran. So a
   check passes only if its own reply says ``ok``, echoes this check's nonce, and no error was
   displayed. Printing "passed", displaying a fake result, hiding the traceback (a custom exception
   handler, a hook that clears the error) or killing the kernel cannot produce that reply; a check
   that never ran never passes. The nonce is not in the cell's text, so cell history and input hooks
   do not show it.
4. A kernel that dies, runs out of time and ignores the interrupt, or floods output is stopped;
   the cell responsible is recorded and the whole run starts again in a fresh kernel without it
   (up to ``max_restarts`` times), so the other questions still earn what they deserve.
"""

from __future__ import annotations

import ast
import asyncio
import re
import secrets
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from time import monotonic

from .assemble import Assembly, RunCell
from .sandbox import Kernel, Limits, Reply, Scratch

GUARD_SOURCE = resources.files(__package__).joinpath("guard.py").read_text(encoding="utf-8")

_MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError")
_CELL_LINE = r"Cell In\[{count}\], line (\d+)"


class GraderError(RuntimeError):
    """The grader itself could not run a submission (no kernel, no guard): not the student's fault."""


@dataclass
class CheckOutcome:
    """The result of one autograded test cell for one submission."""

    grade_id: str
    points: float
    status: str  # passed, failed, timeout, memory-limit, output-limit, crashed, tampered, not-run
    #: What the student may read: the failure message of a visible test; nothing from hidden tests.
    message: str = ""
    #: What the instructor may read (includes hidden tests' exception messages).
    detail: str = ""
    hidden: bool = False

    @property
    def earned(self) -> float:
        return self.points if self.status == "passed" else 0.0


@dataclass
class RunOutcome:
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    #: Problems in the student's own cells (shown in feedback: it is their code).
    answer_errors: list[str] = field(default_factory=list)
    #: Everything the instructor should know: restarts, restored helpers, failing exercise cells.
    events: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    timeouts: int = 0
    crashes: int = 0
    memory: bool = False
    output_limit: bool = False
    restarts: int = 0
    confined: str = "none"
    seconds: float = 0.0


@dataclass
class _Fatal:
    position: int
    status: str  # crashed, timeout, output-limit
    message: str


def _short(text: str, limit: int = 600) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failing_line(reply: Reply) -> int | None:
    if reply.execution_count is None:
        return None
    lines = re.findall(_CELL_LINE.format(count=reply.execution_count), reply.plain_traceback)
    return int(lines[0]) if lines else None


def _guard_config(template: Assembly) -> dict:
    """What the guard needs to know about the exercise (the same for every submission)."""
    return {
        "packages": list(template.packages),
        "imports": list(template.imports),
        "paths": list(template.paths),
        "cell_names": {c.number: list(c.names) for c in template.cells if c.owned_by_exercise},
        "answer_names": [],
    }


@dataclass
class Warm:
    """A started kernel with the guard installed, not yet given to any submission."""

    scratch: Scratch
    kernel: Kernel
    name: str  # the guard's module name in the kernel: random for every kernel
    confined: str = "none"
    notes: list[str] = field(default_factory=list)

    async def discard(self) -> None:
        await self.kernel.kill()
        self.scratch.remove()


async def warm_kernel(
    template: Assembly,
    *,
    data: dict[str, Path] | None,
    limits: Limits,
    env: dict[str, str] | None,
    hidden: list[Path] | None,
) -> Warm:
    """Start a kernel in a fresh scratch folder and install the guard, before any student code.

    The guard imports what the exercise's checks import and takes its snapshot; none of this
    depends on the submission, so :class:`KernelPool` does it ahead of time.
    """
    scratch = Scratch(data)
    kernel = Kernel(scratch, limits, env=env, hidden=hidden)
    try:
        await kernel.start()
        name = "_" + secrets.token_hex(8)
        module = f"__import__('sys').modules[{name!r}]"
        code = (
            "def _mle_handbook_install():\n"
            "    import os, sys, types\n"
            f"    module = types.ModuleType({name!r})\n"
            f"    exec(compile({GUARD_SOURCE!r}, '<grader>', 'exec'), module.__dict__)\n"
            f"    sys.modules[{name!r}] = module\n"
            f"    module.guard = module.Guard(**{_guard_config(template)!r})\n"
            "    module.report = module.guard.install()\n"
            "    module.confined = os.environ.get('MLE_HANDBOOK_CONFINED', 'none')\n"
            "_mle_handbook_install()\n"
            "del _mle_handbook_install\n"
        )
        reply = await kernel.execute(
            code,
            timeout=max(limits.timeout, 120),
            silent=True,
            store_history=False,
            user_expressions={"report": f"{module}.report", "confined": f"{module}.confined"},
        )
        values = {
            k: v.get("data", {}).get("text/plain", "")
            for k, v in reply.user_expressions.items()
            if isinstance(v, dict) and v.get("status") == "ok"
        }
        if reply.status != "ok" or "report" not in values:
            raise GraderError(
                f"could not install the guard in the kernel: {reply.status} {reply.ename} {reply.evalue}"
            )
    except BaseException as exc:
        await kernel.kill()
        scratch.remove()
        if isinstance(exc, Exception) and not isinstance(exc, GraderError):
            raise GraderError(str(exc)) from exc
        raise
    notes = []
    if values["report"].strip("'"):
        notes.append(f"modules the checks import could not be imported: {values['report']}")
    return Warm(scratch, kernel, name, values.get("confined", "'none'").strip("'"), notes)


class KernelPool:
    """Kernels started and prepared ahead of the submissions that will use them.

    Starting a kernel and importing what the checks import takes seconds that do not depend on
    the submission; with a spare kernel warming for each job, that time overlaps the grading of
    the previous submission. Every submission still gets a kernel no other code has run in.
    """

    def __init__(self, template: Assembly, *, spares: int, **options):
        self.template = template
        self.options = options
        self.spares = spares
        self.waiting = 0  # submissions that have not taken a kernel yet
        self.ready: deque[asyncio.Task] = deque()

    def expect(self, submissions: int) -> None:
        self.waiting = submissions
        self._fill()

    def _fill(self) -> None:
        while len(self.ready) < min(self.spares, self.waiting):
            self.ready.append(asyncio.ensure_future(warm_kernel(self.template, **self.options)))

    async def get(self, *, first: bool) -> Warm:
        """A warm kernel; ``first`` when a submission starts (not for a restart)."""
        if first:
            self.waiting = max(0, self.waiting - 1)
        task = self.ready.popleft() if self.ready else None
        self._fill()
        if task is None:
            return await warm_kernel(self.template, **self.options)
        return await task

    async def close(self) -> None:
        while self.ready:
            task = self.ready.popleft()
            task.cancel()
            try:
                warm = await task
            except BaseException:  # noqa: BLE001 - cancelled or failed: nothing left to stop
                continue
            await warm.discard()


class _Session:
    """One kernel lifetime: bind the guard to the submission, run the cells, collect outcomes."""

    def __init__(self, warm: Warm, assembly: Assembly, limits: Limits, outcome: RunOutcome):
        self.kernel = warm.kernel
        self.assembly = assembly
        self.limits = limits
        self.outcome = outcome
        self.name = warm.name
        self.guard = f"__import__('sys').modules[{self.name!r}].guard"
        outcome.confined = warm.confined
        outcome.events += warm.notes

    async def bind(self) -> None:
        """Tell the guard which names the submission binds (rebinding those is not tampering)."""
        names = sorted(self.assembly.answer_names)
        await self.kernel.execute(
            f"{self.guard}.answer_names = frozenset({names!r})",
            timeout=30,
            silent=True,
            store_history=False,
        )

    async def before(self, cell: RunCell) -> bool:
        """Restore the checking machinery; False if the guard could not be reached."""
        # The guard runs as code (inside IPython's cell machinery, where it took its snapshot);
        # its report comes back as a user expression.
        module = f"__import__('sys').modules[{self.name!r}]"
        reply = await self.kernel.execute(
            f"{module}.last = {self.guard}.before()",
            timeout=30,
            silent=True,
            store_history=False,
            user_expressions={"g": f"{module}.last"},
        )
        result = reply.user_expressions.get("g") if reply.status == "ok" else None
        if not isinstance(result, dict) or result.get("status") != "ok":
            self.outcome.tampering.append(
                f"before {cell.grade_id or f'cell {cell.number}'}: the guard could not be reached"
            )
            return False
        text = result.get("data", {}).get("text/plain", "''")
        try:
            text = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
        where = cell.grade_id or f"cell {cell.number}"
        for line in str(text).splitlines():
            kind, _, label = line.partition(": ")
            if kind == "name":
                continue  # the student rebound a name at top level: restored, not tampering
            if kind == "error":
                self.outcome.tampering.append(f"before {where}: {label}")
                return False
            self.outcome.tampering.append(f"restored before {where}: {label}")
        return True

    async def run(self, skip: dict[int, _Fatal], deadline: float) -> _Fatal | None:
        await self.bind()
        previous = None
        for position, cell in enumerate(self.assembly.cells):
            if position in skip:
                fatal = skip[position]
                if cell.kind == "test":
                    self.record(
                        cell,
                        CheckOutcome(
                            cell.grade_id, cell.points, fatal.status, fatal.message, fatal.message
                        ),
                    )
                continue
            if monotonic() > deadline:
                self.outcome.events.append("stopped: the submission used up its total time budget")
                self.outcome.timeouts += 1
                return None
            if cell.owned_by_exercise:
                guarded = await self.before(cell)
                code = f"{cell.source}\n{self.guard}.after({cell.number}, {cell.kind == 'test'})"
            else:
                guarded, code = True, cell.source
            nonce = secrets.token_hex(16)
            reply = await self.kernel.execute(
                code,
                timeout=self.limits.timeout,
                user_expressions={"ok": f"{self.guard}.completed({cell.number}, {nonce!r})"}
                if cell.kind == "test"
                else None,
            )
            if cell.kind == "test":
                self.record(cell, self.verdict(cell, reply, nonce, guarded))
            else:
                self.note(cell, reply)
            if cell.owned_by_exercise and reply.status == "error":
                # The cell stopped before its last line: record what it did bind.
                await self.kernel.execute(
                    f"{self.guard}.remember({cell.number})",
                    timeout=30,
                    silent=True,
                    store_history=False,
                )
            if reply.dead_before and previous is not None:
                # Something the previous cell started (a thread, a timer) stopped the kernel.
                return _Fatal(previous, "crashed", self.describe_stop(reply))
            if reply.killed or reply.status == "dead":
                status = {"dead": "crashed", "timeout": "timeout"}.get(reply.status, reply.status)
                return _Fatal(position, status, self.describe_stop(reply))
            previous = position
        return None

    def describe_stop(self, reply: Reply) -> str:
        if reply.status == "timeout":
            return (
                f"did not finish within {self.limits.timeout:g} s and did not stop when interrupted"
            )
        if reply.status == "output-limit":
            return f"produced more than {self.limits.max_output_chars:,} characters of output"
        code = f" (exit code {reply.exit_code})" if reply.exit_code is not None else ""
        return f"the kernel stopped while this cell ran{code}"

    def record(self, cell: RunCell, check: CheckOutcome) -> None:
        self.outcome.checks[cell.grade_id] = check
        if check.status == "timeout":
            self.outcome.timeouts += 1
        elif check.status == "memory-limit":
            self.outcome.memory = True
        elif check.status == "crashed":
            self.outcome.crashes += 1
        elif check.status == "output-limit":
            self.outcome.output_limit = True

    def verdict(self, cell: RunCell, reply: Reply, nonce: str, guarded: bool) -> CheckOutcome:
        def outcome(
            status: str, message: str, detail: str = "", hidden: bool = False
        ) -> CheckOutcome:
            return CheckOutcome(
                cell.grade_id, cell.points, status, message, detail or message, hidden
            )

        if reply.status in ("timeout", "output-limit", "dead"):
            status = {"dead": "crashed"}.get(reply.status, reply.status)
            return outcome(
                status,
                self.describe_stop(reply)
                if reply.killed or reply.status == "dead"
                else f"did not finish within {self.limits.timeout:g} s",
            )
        echoed = reply.user_expressions.get("ok")
        completed = (
            reply.status == "ok"
            and isinstance(echoed, dict)
            and echoed.get("status") == "ok"
            and echoed.get("data", {}).get("text/plain") == repr(nonce)
        )
        if completed and not reply.error_shown and guarded:
            return outcome("passed", "")
        if not guarded:
            return outcome(
                "tampered", "the checking machinery could not be verified before this check"
            )
        if reply.ename == "ChecksTampered":
            self.outcome.tampering.append(f"during {cell.grade_id}: {_short(reply.evalue)}")
            return outcome(
                "tampered",
                "the checking machinery was changed while this check ran",
                _short(reply.evalue),
            )
        if reply.status == "ok":
            self.outcome.tampering.append(
                f"during {cell.grade_id}: the check did not report completing"
            )
            return outcome("tampered", "the check did not report completing")
        if not reply.error_shown:
            self.outcome.tampering.append(
                f"during {cell.grade_id}: the error of the check was hidden"
            )
        line = _failing_line(reply)
        hidden = line is not None and line in cell.hidden_lines
        detail = _short(f"{reply.ename}: {reply.evalue}" if reply.evalue else reply.ename)
        if reply.ename in _MEMORY_ERRORS:
            return outcome(
                "memory-limit",
                f"ran out of memory (the limit is {self.limits.memory_mb} MB)",
                detail,
            )
        if hidden:
            return outcome(
                "failed", f"a hidden test did not pass ({reply.ename})", detail, hidden=True
            )
        message = detail
        if not reply.evalue and line is not None:
            source_lines = cell.source.splitlines()
            if 0 < line <= len(source_lines):
                message = _short(f"{reply.ename} at: {source_lines[line - 1].strip()}")
        return outcome("failed", message, detail)

    def note(self, cell: RunCell, reply: Reply) -> None:
        if reply.status == "ok":
            return
        where = cell.grade_id or (f"cell {cell.number}" if cell.number else "an added cell")
        text = f"{reply.ename}: {reply.evalue}" if reply.evalue else reply.ename or reply.status
        if reply.status == "timeout":
            text = f"did not finish within {self.limits.timeout:g} s"
            self.outcome.timeouts += 1
        if reply.ename in _MEMORY_ERRORS:
            self.outcome.memory = True
            text = f"ran out of memory (the limit is {self.limits.memory_mb} MB)"
        if reply.status == "output-limit":
            self.outcome.output_limit = True
        if cell.kind in ("answer", "extra"):
            self.outcome.answer_errors.append(f"{where}: {_short(text, 300)}")
        else:
            self.outcome.events.append(f"exercise cell {where} failed: {_short(text, 300)}")


async def run_assembly(
    assembly: Assembly,
    *,
    data: dict[str, Path] | None = None,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    hidden: list[Path] | None = None,
    max_restarts: int = 2,
    budget: float | None = None,
    pool: KernelPool | None = None,
) -> RunOutcome:
    """Run ``assembly`` in fresh kernels until it completes or ``max_restarts`` are used up.

    Kernels come from ``pool`` when given (see :class:`KernelPool`), else are started here.
    """
    limits = limits or Limits()
    options = {"data": data, "limits": limits, "env": env, "hidden": hidden}
    outcome = RunOutcome()
    start = monotonic()
    budget = budget if budget is not None else max(300.0, 10 * limits.timeout)
    deadline = start + budget
    skip: dict[int, _Fatal] = {}
    while True:
        attempt = RunOutcome(confined=outcome.confined)
        if pool is not None:
            warm = await pool.get(first=not skip)
        else:
            warm = await warm_kernel(assembly, **options)
        try:
            fatal = await _Session(warm, assembly, limits, attempt).run(skip, deadline)
        finally:
            await warm.discard()
        outcome.confined = attempt.confined
        if fatal is None or len(skip) >= max_restarts or monotonic() > deadline:
            break
        skip[fatal.position] = fatal
        where = assembly.cells[fatal.position]
        label = where.grade_id or (f"cell {where.number}" if where.number else "an added cell")
        outcome.events.append(f"{label}: {fatal.message}; restarted in a fresh kernel without it")
        if where.kind in ("answer", "extra"):
            outcome.answer_errors.append(f"{label}: {fatal.message}")
        outcome.crashes += fatal.status == "crashed"
        outcome.timeouts += fatal.status == "timeout"
        outcome.output_limit |= fatal.status == "output-limit"
        outcome.restarts += 1
    # The last attempt's results stand; checks it never reached did not run.
    outcome.checks = attempt.checks
    outcome.answer_errors += attempt.answer_errors
    outcome.events += attempt.events
    outcome.tampering += attempt.tampering
    outcome.timeouts += attempt.timeouts
    outcome.crashes += attempt.crashes
    outcome.memory |= attempt.memory
    outcome.output_limit |= attempt.output_limit
    if fatal is not None:
        where = assembly.cells[fatal.position]
        outcome.events.append(
            f"{where.grade_id or f'cell {where.number}'}: {fatal.message}; no restarts left"
        )
    for cell in assembly.tests:
        if cell.grade_id not in outcome.checks:
            outcome.checks[cell.grade_id] = CheckOutcome(
                cell.grade_id,
                cell.points,
                "not-run",
                "not run: the notebook stopped before this check",
            )
    outcome.seconds = monotonic() - start
    return outcome
