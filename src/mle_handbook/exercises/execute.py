"""Execute a notebook in a fresh kernel and report, per cell and per check, what happened.

Execution continues past errors so that one run reports every failing check; the result says which
cells failed, which autograded checks passed, and renders a short readable report (no ANSI codes, no
long tracebacks) naming the notebook, the cell, the grade_id and the exception.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .markers import RAISES_TAG, cell_kind
from .results import FAILED, NOT_RUN, PASSED, CheckResult

#: Every kernel runs with this argument: ipykernel 7 otherwise copies the JVM's stderr (log4j lines,
#: Spark progress bars) into notebook outputs.
KERNEL_ARGUMENTS = ("--IPKernelApp.capture_fd_output=False",)
DEFAULT_TIMEOUT = 180  # seconds per cell

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CELL_LINE = re.compile(r"(?:Cell In\[\d*\]|<ipython-input-[^>]*>), line (\d+)")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class CellFailure:
    """One cell that raised (or never finished)."""

    cell: int  # 1-based
    grade_id: str | None
    ename: str
    evalue: str
    line: int | None = None

    def describe(self) -> str:
        where = f"cell {self.cell}"
        if self.grade_id:
            where += f", grade_id {self.grade_id!r}"
        if self.line:
            where += f", line {self.line}"
        evalue = " ".join(self.evalue.split()) if self.evalue else ""
        return f"{where}: {self.ename}{': ' + evalue if evalue else ''}"


@dataclass
class ExecutionResult:
    path: str
    notebook: nbformat.NotebookNode
    failures: list[CellFailure] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def report(self) -> str:
        """One readable block: which notebook, which cells and checks, which exceptions."""
        if self.ok:
            return f"{self.path}: executed without errors in {self.seconds:.1f} s"
        failed_checks = [c for c in self.checks if c.status != PASSED]
        head = f"{self.path}: {len(self.failures)} cell(s) failed"
        if self.checks:
            head += f"; {len(failed_checks)} of {len(self.checks)} exercise check(s) did not pass"
        lines = [head]
        lines += [f"  - {f.describe()}" for f in self.failures]
        return "\n".join(lines)


def _failure_from_output(number: int, cell, output) -> CellFailure:
    traceback = strip_ansi("\n".join(output.get("traceback", [])))
    lines = _CELL_LINE.findall(traceback)
    return CellFailure(
        cell=number,
        grade_id=cell_kind(cell).grade_id,
        ename=output.get("ename", "Error"),
        evalue=strip_ansi(output.get("evalue", "")),
        line=int(lines[-1]) if lines else None,
    )


def collect_results(
    nb: nbformat.NotebookNode, *, stopped_at: int | None = None
) -> tuple[list[CellFailure], list[CheckResult]]:
    """Failures and check results of an executed notebook (cells from ``stopped_at`` on never ran)."""
    failures: list[CellFailure] = []
    checks: list[CheckResult] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        number = index + 1
        kind = cell_kind(cell)
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        ran = stopped_at is None or index < stopped_at
        failure = _failure_from_output(number, cell, error) if error else None
        if failure and RAISES_TAG not in cell.get("metadata", {}).get("tags", []):
            failures.append(failure)
        if kind.autograded_test:
            if not ran:
                status, message = NOT_RUN, "not run: the notebook stopped before this cell"
            elif failure:
                status, message = FAILED, failure.describe().split(": ", 1)[1]
            else:
                status, message = PASSED, ""
            checks.append(
                CheckResult(kind.grade_id or f"cell-{number}", kind.points or 0.0, status, message)
            )
    return failures, checks


def execute_notebook(
    nb: nbformat.NotebookNode,
    *,
    path: str | Path = "<notebook>",
    cwd: str | Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
) -> ExecutionResult:
    """Run every cell of a copy of ``nb`` in a fresh kernel; never raises for notebook errors."""
    nb = copy.deepcopy(nb)
    current = {"index": None}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index

    # The kernel talks over IPC sockets in a private folder: no TCP ports, and no "running over
    # TCP without encryption" warning from every kernel.
    sockets = tempfile.mkdtemp(prefix="mle-handbook-kernel-")
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        extra_arguments=list(KERNEL_ARGUMENTS),
        resources={"metadata": {"path": str(cwd) if cwd else "."}},
        on_cell_start=on_cell_start,
    )
    start = time.perf_counter()
    stop_failure = None
    try:
        client.execute()
    except CellTimeoutError:
        stop_failure = ("CellTimeoutError", f"the cell did not finish within {timeout} s")
    except DeadKernelError as exc:
        stop_failure = ("DeadKernelError", f"the kernel died: {exc}".strip())
    finally:
        # nbclient leaves a kernel it did not create running: close its channels and shut it down.
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=stop_failure is not None)
        shutil.rmtree(sockets, ignore_errors=True)
    elapsed = time.perf_counter() - start
    index = current["index"] if stop_failure else None
    failures, checks = collect_results(nb, stopped_at=None if index is None else index + 1)
    if stop_failure and index is not None:
        cell = nb.cells[index]
        failures.append(CellFailure(index + 1, cell_kind(cell).grade_id, *stop_failure))
        for check in checks:
            if check.grade_id == cell_kind(cell).grade_id:
                check.status, check.message = FAILED, stop_failure[1]
                check.detail = check.message
        failures.sort(key=lambda f: f.cell)
    return ExecutionResult(str(path), nb, failures, checks, elapsed)


def execute_file(path: str | Path, **kwargs) -> ExecutionResult:
    """Read and execute a notebook file in its own directory."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    kwargs.setdefault("cwd", path.parent)
    kwargs.setdefault("path", path)
    return execute_notebook(nb, **kwargs)
