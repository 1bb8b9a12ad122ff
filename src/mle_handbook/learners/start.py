"""``mle-handbook start``: a learner's working folder, filled without ever losing their work.

The working folder (``work/`` by default) gets the student version of every exercise and a copy of
every worked notebook with its outputs cleared, each with its data files, from
:func:`mle_handbook.bundles.learner_files` (as the site's downloads and ``mle-handbook release``).
What learners read about it is in ``docs/learners/working-through-notebooks.md``.

Running it again must never lose anything the learner wrote. A manifest
(``work/.mle-handbook-manifest.json``) records the SHA-256 of every file as it was last written, so
that :func:`decide` can tell a file the handbook wrote (replaced when the handbook's version
changes) from one the learner changed (left alone, and reported as skipped); a missing file is
written again. A file the manifest does not know (a folder made by hand, or a lost manifest) counts
as the learner's when it differs: the safe side.

It also writes the learner's JupyterLab settings to ``work/.mle-handbook-jupyter/`` (hidden in
JupyterLab's file browser), which ``make lab`` adds to Jupyter's configuration path
(``JUPYTER_CONFIG_PATH``): nbgrader is in the environment for instructors, and without them it
would give learners its instructor tools (an Nbgrader menu, "Create Assignment", the formgrader)
and warn about a missing ``nbgrader_config.py``. Its server extensions and its JupyterLab extension
are switched off there, in Jupyter's own configuration files, for that JupyterLab only; instructors
who start ``jupyter lab`` themselves keep them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..bundles import learner_files
from ..files import write_bytes_atomic

#: The handbook's notebook folders, in the order they are reported; each becomes a folder of work/.
SOURCE_FOLDERS = ("exercises", "notebooks")
MANIFEST = ".mle-handbook-manifest.json"
MANIFEST_VERSION = 1
DEFAULT_WORK = Path("work")
#: The learner's Jupyter configuration folder, in the working folder (see the module docstring).
LAB_CONFIG = ".mle-handbook-jupyter"
#: nbgrader's server extensions (instructors' tools and a JupyterHub exchange learners do not use).
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
)
#: nbgrader's JupyterLab extension: its menu, "Create Assignment" and the formgrader's panels.
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"


class StartError(Exception):
    """The working folder cannot be set up; the message says why and what to do."""


@dataclass
class FileAction:
    path: str  # relative to the working folder, POSIX separators
    action: str  # "added", "updated", "up-to-date" or "skipped"
    reason: str = ""


@dataclass
class StartReport:
    work: Path
    actions: list[FileAction] = field(default_factory=list)
    manifest_note: str = ""

    def of(self, action: str) -> list[FileAction]:
        return [a for a in self.actions if a.action == action]

    def render(self) -> str:
        lines = [f"Working folder: {self.work}"]
        if self.manifest_note:
            lines.append(f"  note: {self.manifest_note}")
        for action in ("added", "updated", "skipped"):
            for item in self.of(action):
                line = f"  {action:<8} {item.path}"
                lines.append(line + (f": {item.reason}" if item.reason else ""))
        counts = {a: len(self.of(a)) for a in ("added", "updated", "skipped", "up-to-date")}
        lines.append(
            f"{counts['added']} added, {counts['updated']} updated, {counts['skipped']} skipped "
            f"(changed by you), {counts['up-to-date']} already up to date."
        )
        if counts["skipped"]:
            lines.append(
                "Your changes are never overwritten. To get the handbook's current version of a "
                "skipped file, rename your copy and run this again."
            )
        return "\n".join(lines)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def handbook_files(root: Path) -> dict[str, bytes]:
    """``{path in work/: content}`` for every exercise and worked notebook under ``root``."""
    missing = [name for name in SOURCE_FOLDERS if not (root / name).is_dir()]
    if missing:
        raise StartError(
            f"{root.resolve()} has no {' or '.join(f'{m}/' for m in missing)} folder: run this "
            "from the handbook's folder (where `make student` runs it) or pass --root"
        )
    files: dict[str, bytes] = {}
    for folder in SOURCE_FOLDERS:
        for notebook in sorted((root / folder).glob("*.ipynb")):
            try:
                bundle = learner_files(notebook, linked=False)
            except FileNotFoundError as exc:  # a declared data file is missing
                raise StartError(str(exc)) from None
            for name, data in bundle.items():
                if ".." in PurePosixPath(name).parts or PurePosixPath(name).is_absolute():
                    raise StartError(
                        f"{notebook} declares the data file {name!r}, which is outside its "
                        "folder; data files must sit in or under the notebook's folder"
                    )
                files[f"{folder}/{name}"] = data
    return files


def read_manifest(work: Path) -> tuple[dict[str, str], str]:
    """``{path: sha256 as last written}`` and a note when the manifest had to be ignored."""
    path = work / MANIFEST
    if not path.exists():
        return {}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != MANIFEST_VERSION or not isinstance(data.get("files"), dict):
            raise ValueError("unknown format")
        return {str(k): str(v) for k, v in data["files"].items()}, ""
    except (OSError, ValueError, AttributeError) as exc:
        return {}, (
            f"{MANIFEST} could not be read ({exc}); every file that differs from the handbook's "
            "version is treated as yours and left alone"
        )


def _json(data: dict) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode("utf-8")


def _refresh(path: Path, data: bytes) -> None:
    """Write ``path`` unless it already holds ``data``."""
    if not path.is_file() or path.read_bytes() != data:
        write_bytes_atomic(path, data)


def write_manifest(work: Path, hashes: dict[str, str]) -> None:
    _refresh(
        work / MANIFEST, _json({"version": MANIFEST_VERSION, "files": dict(sorted(hashes.items()))})
    )


def decide(on_disk: bytes | None, new: bytes, written: str | None) -> tuple[str, str]:
    """What to do with one file, and why."""
    if on_disk is None:
        return "added", "restored: it had been deleted" if written else ""
    current = sha256(on_disk)
    if current == sha256(new):
        return "up-to-date", ""
    if written is not None and current == written:
        return "updated", "the handbook's version changed; you had not edited it"
    if written is None:
        return "skipped", "it differs from the handbook's version and was not written here"
    if written == sha256(new):
        return "skipped", "you have changed it (the handbook's version is the same)"
    return "skipped", "you have changed it, and the handbook's version has changed since"


def write_lab_config(work: Path) -> Path:
    """Write (or refresh) the learner's Jupyter settings that switch nbgrader off; returns their
    folder."""
    folder = work / LAB_CONFIG
    server = dict.fromkeys(NBGRADER_SERVER_EXTENSIONS, False)
    _refresh(
        folder / "jupyter_server_config.json", _json({"ServerApp": {"jpserver_extensions": server}})
    )
    page = {"disabledExtensions": {NBGRADER_LAB_EXTENSION: True}}
    _refresh(folder / "labconfig" / "page_config.json", _json(page))
    return folder


def start(root: str | Path = ".", work: str | Path | None = None) -> StartReport:
    """Create or refresh the working folder ``work`` (default ``root/work``) from ``root``."""
    root = Path(root)
    work = Path(work) if work is not None else root / DEFAULT_WORK
    if work.exists() and not work.is_dir():
        raise StartError(f"{work} exists and is not a folder")
    wanted = handbook_files(root)
    manifest, note = read_manifest(work)
    report = StartReport(work, manifest_note=note)
    for key, data in wanted.items():
        target = work / key
        try:
            on_disk = target.read_bytes() if target.exists() else None
        except OSError as exc:
            report.actions.append(FileAction(key, "skipped", f"cannot be read ({exc.strerror})"))
            continue
        action = FileAction(key, *decide(on_disk, data, manifest.get(key)))
        if action.action in ("added", "updated"):
            write_bytes_atomic(target, data)
        if action.action != "skipped":
            manifest[key] = sha256(data)
        report.actions.append(action)
    work.mkdir(parents=True, exist_ok=True)
    write_manifest(work, manifest)
    write_lab_config(work)
    return report
