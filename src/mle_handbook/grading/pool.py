"""Kernels made ready before the submissions that use them: started, isolated, with the guard in.

Starting a kernel and importing what the checks import takes seconds that do not depend on the
submission; :class:`KernelPool` keeps a spare warming for each job so that this time overlaps the
grading of the previous submission. Every submission still gets a kernel no other code has run in.
A kernel that fails to start or to take the guard raises :class:`GraderError` (not the student's
fault); :mod:`.runner` then tries once more on a fresh kernel.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .assemble import Assembly
from .kernel import Kernel
from .outputs import plain_text
from .sandbox import Limits, Scratch

#: The in-kernel guard, as one module: its snapshot structures, then the guard itself.
GUARD_SOURCE = "\n\n".join(
    resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    for name in ("guard_snapshot.py", "guard.py")
)


class GraderError(RuntimeError):
    """The grader itself could not run a submission (no kernel, no guard): not the student's fault."""


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

    @property
    def isolation(self) -> str:
        return self.kernel.isolation

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
    notes = []
    if values["report"].strip("'"):
        notes.append(f"modules the checks import could not be imported: {values['report']}")
    return Warm(scratch, kernel, name, values.get("confined", "'none'").strip("'"), notes)


class KernelPool:
    """Kernels started and prepared ahead of the submissions that will use them."""

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
