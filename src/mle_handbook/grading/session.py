"""One kernel's lifetime for one submission: bind the guard, run the cells, decide each check.

The instructors' guide, "How a check is decided" and "Why the kernel cannot forge a result", says
why each step is there (a simpler rule can be fooled). Here: :meth:`Session.before` asks the guard
to restore the checking machinery before every cell the exercise owns; a test cell's last line asks
it to verify nothing changed *during* the check; and the request's ``user_expressions`` carries a
nonce made for this check alone, which the guard hands back only if that last line ran. A check
passes only if its own reply says ``ok``, echoes its nonce, and no error was displayed. What the
student may read is filtered by the hidden tests' own text (:class:`.analysis.HiddenText`).
"""

from __future__ import annotations

import ast
import re
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from time import monotonic

from ..exercises.execute import strip_ansi
from ..exercises.results import (
    CRASHED,
    FAILED,
    MEMORY_LIMIT,
    OUTPUT_LIMIT,
    PASSED,
    TAMPERED,
    TIMEOUT,
    CheckResult,
)
from .analysis import HiddenText
from .assemble import Assembly, RunCell
from .kernel import Reply, plain_text
from .sandbox import Limits

_MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError")
#: What stops a cell, most serious first (a submission's status is the first it met).
STOPS = (CRASHED, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT)
#: What the student reads instead of a message that quotes a hidden test.
WITHHELD = "its message is not shown: it quoted a hidden test"


class GraderError(RuntimeError):
    """The grader itself could not run a submission (no kernel, no guard): not the student's fault."""


@dataclass
class RunOutcome:
    """What running a submission's cells gave: the checks, and what happened on the way."""

    checks: dict[str, CheckResult] = field(default_factory=dict)
    #: Problems in the student's own cells (shown in feedback: it is their code).
    answer_errors: list[str] = field(default_factory=list)
    #: Everything the instructor should know: restarts, restored helpers, failing exercise cells.
    events: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    #: Why the run's results cannot be trusted (a forged reply, the kernel's messaging changed).
    review: list[str] = field(default_factory=list)
    #: The :data:`STOPS` some cell met.
    stops: set[str] = field(default_factory=set)
    #: Kernels replaced because they were broken before the submission ran.
    retries: int = 0
    confined: str = "none"
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """The submission's status (see :data:`.results.STATUSES`), as far as running it tells."""
        if self.review:
            return "review"
        if self.tampering:
            return "tampered"
        return next((s for s in STOPS if s in self.stops), "graded")


@dataclass
class Fatal:
    position: int
    status: str  # crashed, timeout, output-limit
    message: str


def short(text: str, limit: int = 600) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where(cell: RunCell) -> str:
    """A cell as notes name it."""
    return cell.grade_id or (f"cell {cell.number}" if cell.number else "an added cell")


class Session:
    """One kernel lifetime: bind the guard to the submission, run the cells, collect outcomes."""

    def __init__(self, warm, assembly: Assembly, limits: Limits, outcome: RunOutcome, hidden):
        self.kernel = warm.kernel
        self.hidden: HiddenText = hidden
        self.assembly = assembly
        self.limits = limits
        self.outcome = outcome
        self.module = warm.module
        self.guard = f"{warm.module}.guard"
        outcome.confined = warm.confined
        outcome.events += warm.notes

    async def _call(self, code: str, **expressions: str) -> Reply:
        """Run the grader's own code in the kernel, out of the student's history."""
        return await self.kernel.execute(
            code, timeout=30, silent=True, store_history=False, user_expressions=expressions
        )

    async def bind(self) -> None:
        """Tell the guard which names the submission binds (rebinding those is not tampering).

        Raises :class:`GraderError` when the kernel is not usable before any of the submission's
        code ran (someone else's fault: the run tries again on a fresh kernel).
        """
        reply = await self._call(
            f"{self.guard}.answer_names = frozenset({sorted(self.assembly.answer_names)!r})"
        )
        if reply.status != "ok":
            raise GraderError(
                f"the kernel was not usable before the submission ran: {reply.status} "
                f"{reply.ename} {short(reply.evalue, 200)}".strip()
            )

    async def before(self, cell: RunCell) -> bool:
        """Restore the checking machinery; False if the guard could not be reached."""
        # The guard runs as code (inside IPython's cell machinery, where it took its snapshot);
        # its report comes back as a user expression.
        reply = await self._call(
            f"{self.module}.last = {self.guard}.before()", g=f"{self.module}.last"
        )
        if reply.status == "dead":
            return False  # the previous cell stopped the kernel: the next request says so
        result = reply.user_expressions.get("g") if reply.status == "ok" else None
        if not isinstance(result, dict) or result.get("status") != "ok":
            self.outcome.tampering.append(f"before {where(cell)}: the guard could not be reached")
            return False
        text = plain_text(result, "''")
        with suppress(ValueError, SyntaxError):
            text = ast.literal_eval(text)
        for line in str(text).splitlines():  # "kind: label" per change
            kind, _, label = line.partition(": ")
            if kind == "name":
                continue  # the student rebound a name at top level: restored, not tampering
            if kind == "messaging":
                self.outcome.review.append(f"the kernel's messaging was changed: {label}")
            if kind == "error":
                self.outcome.tampering.append(f"before {where(cell)}: {label}")
                return False
            self.outcome.tampering.append(f"restored before {where(cell)}: {label}")
        return True

    async def run(self, skip: dict[int, Fatal], deadline: float) -> Fatal | None:
        """Run the cells (without those in ``skip``); the fatal stop of a cell, if any."""
        await self.bind()
        try:
            return await self._cells(skip, deadline)
        finally:
            await self.kernel.drain()
            if self.kernel.forged_replies:
                self.outcome.review.append(
                    f"{self.kernel.forged_replies} reply(ies) came for requests already answered: "
                    "the submission's code forged messages of the kernel"
                )

    async def _cells(self, skip: dict[int, Fatal], deadline: float) -> Fatal | None:
        previous = None
        for position, cell in enumerate(self.assembly.cells):
            if position in skip:
                fatal = skip[position]
                if cell.kind == "test":
                    self.record(
                        cell, CheckResult(cell.grade_id, cell.points, fatal.status, fatal.message)
                    )
                continue
            if monotonic() > deadline:
                self.outcome.events.append("stopped: the submission used up its total time budget")
                self.outcome.stops.add(TIMEOUT)
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
                await self._call(f"{self.guard}.remember({cell.number})")
            if reply.dead_before and previous is not None:
                # Something the previous cell started (a thread, a timer) stopped the kernel.
                return Fatal(previous, CRASHED, self.describe(reply))
            if reply.killed or reply.status == "dead":
                return Fatal(position, self.stop(reply), self.describe(reply))
            previous = position
        return None

    def stop(self, reply: Reply) -> str | None:
        """Which of :data:`STOPS` a reply met, if any."""
        stop = {"dead": CRASHED, TIMEOUT: TIMEOUT, OUTPUT_LIMIT: OUTPUT_LIMIT}.get(reply.status)
        return stop or (MEMORY_LIMIT if reply.ename in _MEMORY_ERRORS else None)

    def describe(self, reply: Reply) -> str:
        """What went wrong in a cell, in words."""
        if reply.status == TIMEOUT:
            stuck = " and did not stop when interrupted" if reply.killed else ""
            return f"did not finish within {self.limits.timeout:g} s{stuck}"
        if reply.status == OUTPUT_LIMIT:
            return f"produced more than {self.limits.max_output_chars:,} characters of output"
        if reply.status == "dead":
            code = f" (exit code {reply.exit_code})" if reply.exit_code is not None else ""
            return f"the kernel stopped while this cell ran{code}"
        if reply.ename in _MEMORY_ERRORS:
            return f"ran out of memory (the limit is {self.limits.memory_mb} MB)"
        return f"{reply.ename}: {reply.evalue}" if reply.evalue else reply.ename or reply.status

    def record(self, cell: RunCell, check: CheckResult) -> None:
        self.outcome.checks[cell.grade_id] = check
        if check.status in STOPS:
            self.outcome.stops.add(check.status)

    def verdict(self, cell: RunCell, reply: Reply, nonce: str, guarded: bool) -> CheckResult:
        def outcome(
            status: str, message: str, detail: str = "", hidden: bool = False
        ) -> CheckResult:
            if self.hidden.leaks(message):
                message, hidden = f"a hidden test did not pass ({WITHHELD})", True
            return CheckResult(
                cell.grade_id, cell.points, status, message, detail or message, hidden
            )

        if reply.status in (TIMEOUT, OUTPUT_LIMIT, "dead"):
            return outcome(self.stop(reply), self.describe(reply))
        echoed = reply.user_expressions.get("ok")
        completed = (
            reply.status == "ok"
            and isinstance(echoed, dict)
            and echoed.get("status") == "ok"
            and plain_text(echoed) == repr(nonce)
        )
        if completed and not reply.error_shown and guarded:
            return outcome(PASSED, "")
        if not guarded:
            return outcome(
                TAMPERED, "the checking machinery could not be verified before this check"
            )
        if reply.ename == "ChecksTampered" or reply.status == "ok":
            # Changed during the check (the guard said so), or it never reached its last line.
            changed = reply.ename == "ChecksTampered"
            detail = short(reply.evalue) if changed else "the check did not report completing"
            self.outcome.tampering.append(f"during {cell.grade_id}: {detail}")
            message = "the checking machinery was changed while this check ran"
            return outcome(TAMPERED, message if changed else detail, detail)
        if not reply.error_shown:
            self.outcome.tampering.append(
                f"during {cell.grade_id}: the error of the check was hidden"
            )
        traceback = strip_ansi("\n".join(reply.traceback))
        lines = re.findall(rf"Cell In\[{reply.execution_count}\], line (\d+)", traceback)
        line = int(lines[0]) if lines and reply.execution_count is not None else None
        detail = short(f"{reply.ename}: {reply.evalue}" if reply.evalue else reply.ename)
        if reply.ename in _MEMORY_ERRORS:
            return outcome(MEMORY_LIMIT, self.describe(reply), detail)
        if line is not None and line in cell.hidden_lines:
            return outcome(
                FAILED, f"a hidden test did not pass ({short(reply.ename, 80)})", detail, True
            )
        message = detail
        if not reply.evalue and line is not None:
            source_lines = cell.source.splitlines()
            if 0 < line <= len(source_lines):
                message = short(f"{reply.ename} at: {source_lines[line - 1].strip()}")
        return outcome(FAILED, message, detail)

    def note(self, cell: RunCell, reply: Reply) -> None:
        if reply.status == "ok":
            return
        if stop := self.stop(reply):
            self.outcome.stops.add(stop)
        text = self.describe(reply)
        if cell.kind in ("answer", "extra"):
            text = WITHHELD if self.hidden.leaks(text) else short(text, 300)
            self.outcome.answer_errors.append(f"{where(cell)}: {text}")
        else:
            self.outcome.events.append(f"exercise cell {where(cell)} failed: {short(text, 300)}")
