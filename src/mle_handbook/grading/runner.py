"""Run one assembled submission to the end, whatever it does to its kernels.

Each attempt gets a fresh kernel with the guard installed (:func:`warm_kernel`), which no other
code has run in; :class:`KernelPool` starts them ahead, so that start-up overlaps the previous
submission. A submission that stopped its kernel (it died, timed out and ignored the interrupt,
flooded its output) runs again without the cell responsible, up to ``max_restarts`` times, so the
other questions still earn their marks; a kernel broken before the submission's code ran
(:class:`GraderError`, not the student's fault) is replaced once before the status is ``error``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from time import monotonic

from ..exercises.results import NOT_RUN, CheckResult
from .analysis import HiddenText
from .assemble import Assembly
from .kernel import Kernel, plain_text
from .sandbox import Limits, Scratch
from .session import Fatal, GraderError, RunOutcome, Session, where

#: The in-kernel guard, as one module: its snapshot structures, then the guard itself.
GUARD_SOURCE = "\n\n".join(
    resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    for name in ("guard_snapshot.py", "guard.py")
)


@dataclass
class Warm:
    """A started kernel with the guard installed, not yet given to any submission."""

    kernel: Kernel
    #: The guard's module in the kernel, under a random name for every kernel.
    module: str
    confined: str = "none"
    notes: list[str] = field(default_factory=list)

    async def discard(self) -> None:
        await self.kernel.kill()
        self.kernel.scratch.remove()


async def warm_kernel(
    template: Assembly,
    *,
    limits: Limits,
    data: dict[str, Path] | None = None,
    env: dict[str, str] | None = None,
    hidden: list[Path] | None = None,
) -> Warm:
    """Start a kernel in a fresh scratch folder and install the guard, before any student code.

    The guard imports what the exercise's checks import and takes its snapshot; none of this
    depends on the submission, so :class:`KernelPool` does it ahead of time.
    """
    scratch = Scratch(data)
    kernel = Kernel(scratch, limits, env=env, hidden=hidden)
    name = "_" + secrets.token_hex(8)
    module = f"__import__('sys').modules[{name!r}]"
    config = {
        "packages": list(template.packages),
        "imports": list(template.imports),
        "paths": list(template.paths),
        "cell_names": {c.number: list(c.names) for c in template.cells if c.owned_by_exercise},
        "answer_names": [],
    }
    code = (
        "def _mle_handbook_install():\n"
        "    import os, sys, types\n"
        f"    module = types.ModuleType({name!r})\n"
        f"    exec(compile({GUARD_SOURCE!r}, '<grader>', 'exec'), module.__dict__)\n"
        f"    sys.modules[{name!r}] = module\n"
        f"    module.guard = module.Guard(**{config!r})\n"
        "    module.report = module.guard.install()\n"
        "    module.confined = os.environ.get('MLE_HANDBOOK_CONFINED', 'none')\n"
        "_mle_handbook_install()\n"
        "del _mle_handbook_install\n"
    )
    try:
        await kernel.start()
        reply = await kernel.execute(
            code,
            timeout=max(limits.timeout, 120),
            silent=True,
            store_history=False,
            user_expressions={"report": f"{module}.report", "confined": f"{module}.confined"},
        )
        values = {
            k: plain_text(v)
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
    problems = values["report"].strip("'")
    notes = [f"modules the checks import could not be imported: {problems}"] if problems else []
    return Warm(kernel, module, values.get("confined", "'none'").strip("'"), notes)


class KernelPool:
    """Kernels started and prepared ahead of the submissions that will use them."""

    def __init__(self, template: Assembly, *, spares: int, expected: int, **options):
        self.template = template
        self.options = options
        self.spares = spares
        self.waiting = expected  # submissions that have not taken a kernel yet
        self.ready: deque[asyncio.Task] = deque()
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


async def run_assembly(
    assembly: Assembly,
    *,
    limits: Limits | None = None,
    max_restarts: int = 2,
    pool: KernelPool | None = None,
    hidden_text: HiddenText | None = None,
    **options,
) -> RunOutcome:
    """Run ``assembly`` in fresh kernels until it completes or ``max_restarts`` are used up.

    Kernels come from ``pool`` when given, else are started here with ``options`` (``data``,
    ``env``, ``hidden``: see :func:`warm_kernel`). ``hidden_text`` (the exercise's hidden tests,
    the same for every submission) is made here when not given.
    """
    hidden_text = hidden_text or HiddenText(assembly)
    options["limits"] = limits = limits or Limits()
    outcome = RunOutcome()  # what the attempts before the last one leave
    start = monotonic()
    deadline = start + max(300.0, 10 * limits.timeout)
    skip: dict[int, Fatal] = {}
    while True:
        for retry in (0, 1):  # a kernel broken before the submission ran is replaced once
            attempt, warm = RunOutcome(retries=retry), None
            try:
                if pool is not None and not retry:
                    warm = await pool.get(first=not skip)
                else:
                    warm = await warm_kernel(assembly, **options)
                session = Session(warm, assembly, limits, attempt, hidden_text)
                fatal = await session.run(skip, deadline)
                break
            except GraderError as exc:
                if retry:
                    raise GraderError(f"{exc} (also on a fresh kernel)") from None
            finally:
                if warm is not None:
                    await warm.discard()
        outcome.retries += attempt.retries
        outcome.review += attempt.review  # a forged reply counts whichever attempt it came in
        if fatal is None or len(skip) >= max_restarts or monotonic() > deadline:
            break
        skip[fatal.position] = fatal
        cell = assembly.cells[fatal.position]
        outcome.events.append(
            f"{where(cell)}: {fatal.message}; restarted in a fresh kernel without it"
        )
        if cell.kind in ("answer", "extra"):
            outcome.answer_errors.append(f"{where(cell)}: {fatal.message}")
        outcome.stops.add(fatal.status)
    # The last attempt's results stand; checks it never reached did not run.
    outcome.checks, outcome.confined = attempt.checks, attempt.confined
    outcome.answer_errors += attempt.answer_errors
    outcome.events += attempt.events
    outcome.tampering += attempt.tampering
    outcome.stops |= attempt.stops
    if outcome.retries:
        outcome.events.append(
            "the kernel was broken before the submission ran; graded on a fresh one"
        )
    if fatal is not None:
        cell = assembly.cells[fatal.position]
        outcome.events.append(f"{where(cell)}: {fatal.message}; no restarts left")
    for cell in assembly.tests:
        outcome.checks.setdefault(
            cell.grade_id,
            CheckResult(
                cell.grade_id,
                cell.points,
                NOT_RUN,
                "not run: the notebook stopped before this check",
            ),
        )
    outcome.seconds = monotonic() - start
    return outcome
