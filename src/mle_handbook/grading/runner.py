"""Run one assembled submission to the end, whatever it does to its kernels.

Each attempt gets a fresh kernel (from a :class:`~.pool.KernelPool` when given) and one
:class:`~.session.Session`. Two things start a new attempt:

- **the submission stopped its kernel** (it died, ran out of time and ignored the interrupt, or
  flooded its output): the cell responsible is recorded and the whole run starts again without it,
  up to ``max_restarts`` times, so the other questions still earn what they deserve;
- **the kernel was broken before the submission's code ran** (it did not start, did not take the
  guard, or was found stopped): that is not the student's fault, so the attempt is made once more
  on a freshly started kernel before the submission gets status ``error``.
"""

from __future__ import annotations

from pathlib import Path
from time import monotonic

from ..exercises.results import CRASHED, NOT_RUN, OUTPUT_LIMIT, TIMEOUT, CheckResult
from .analysis import HiddenText
from .assemble import Assembly
from .pool import GraderError, KernelPool, Warm, warm_kernel
from .sandbox import Limits
from .session import Fatal, RunOutcome, Session

__all__ = ["GraderError", "KernelPool", "RunOutcome", "run_assembly"]


async def _attempt(
    assembly: Assembly,
    skip: dict[int, Fatal],
    deadline: float,
    *,
    limits: Limits,
    options: dict,
    pool: KernelPool | None,
    confined: str,
    retries: int,
    hidden: HiddenText,
) -> tuple[RunOutcome, Fatal | None]:
    """One kernel's run; a broken kernel is replaced ``retries`` times before GraderError."""
    for chance in range(retries + 1):
        attempt = RunOutcome(confined=confined)
        warm: Warm | None = None
        try:
            if pool is not None and chance == 0:
                warm = await pool.get(first=not skip)
            else:
                warm = await warm_kernel(assembly, **options)
            fatal = await Session(warm, assembly, limits, attempt, hidden).run(skip, deadline)
            attempt.retries = chance
            return attempt, fatal
        except GraderError as exc:
            if chance == retries:
                message = f"{exc} (also on a fresh kernel)" if retries else str(exc)
                raise GraderError(message) from None
        finally:
            if warm is not None:
                await warm.discard()
    raise AssertionError("unreachable")  # pragma: no cover


async def run_assembly(
    assembly: Assembly,
    *,
    data: dict[str, Path] | None = None,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
    hidden: list[Path] | None = None,
    max_restarts: int = 2,
    retries: int = 1,
    budget: float | None = None,
    pool: KernelPool | None = None,
    hidden_text: HiddenText | None = None,
) -> RunOutcome:
    """Run ``assembly`` in fresh kernels until it completes or ``max_restarts`` are used up.

    Kernels come from ``pool`` when given (see :class:`KernelPool`), else are started here.
    ``hidden_text`` (the exercise's hidden tests, the same for every submission) is made here
    when not given.
    """
    hidden_text = hidden_text or HiddenText(assembly)
    limits = limits or Limits()
    options = {"data": data, "limits": limits, "env": env, "hidden": hidden}
    outcome = RunOutcome()
    start = monotonic()
    budget = budget if budget is not None else max(300.0, 10 * limits.timeout)
    deadline = start + budget
    skip: dict[int, Fatal] = {}
    while True:
        attempt, fatal = await _attempt(
            assembly,
            skip,
            deadline,
            limits=limits,
            options=options,
            pool=pool,
            confined=outcome.confined,
            retries=retries,
            hidden=hidden_text,
        )
        outcome.confined, outcome.isolation = attempt.confined, attempt.isolation
        outcome.retries += attempt.retries
        outcome.review += attempt.review  # a forged reply counts whichever attempt it came in
        if fatal is None or len(skip) >= max_restarts or monotonic() > deadline:
            break
        skip[fatal.position] = fatal
        where = assembly.cells[fatal.position]
        label = where.grade_id or (f"cell {where.number}" if where.number else "an added cell")
        outcome.events.append(f"{label}: {fatal.message}; restarted in a fresh kernel without it")
        if where.kind in ("answer", "extra"):
            outcome.answer_errors.append(f"{label}: {fatal.message}")
        outcome.crashes += fatal.status == CRASHED
        outcome.timeouts += fatal.status == TIMEOUT
        outcome.output_limit |= fatal.status == OUTPUT_LIMIT
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
    if outcome.retries:
        outcome.events.append(
            "the kernel was broken before the submission ran; graded on a fresh one"
        )
    if fatal is not None:
        where = assembly.cells[fatal.position]
        outcome.events.append(
            f"{where.grade_id or f'cell {where.number}'}: {fatal.message}; no restarts left"
        )
    for cell in assembly.tests:
        if cell.grade_id not in outcome.checks:
            outcome.checks[cell.grade_id] = CheckResult(
                cell.grade_id,
                cell.points,
                NOT_RUN,
                "not run: the notebook stopped before this check",
            )
    outcome.seconds = monotonic() - start
    return outcome
