"""Find the submissions in a folder or zip, as a learning platform downloads them, and whose they are.

The student id comes from each file's relative path by the first of :data:`CONVENTIONS` that
matches, or only ``--id-pattern`` (the instructors' guide, "Where the student id comes from").
One top folder around everything is read as the root; hidden files, ``__MACOSX/``,
``.ipynb_checkpoints/`` and Blackboard's receipts are ignored. Nothing is extracted or written:
files are read into memory, so the submissions stay byte-for-byte as they were.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: Files larger than this are not read (the grader reports them as not gradable).
MAX_FILE_BYTES = 50 * 1024 * 1024

CONVENTIONS: tuple[tuple[str, str], ...] = (
    ("moodle", r"(?:^|/)(?P<name>[^/]*?)_(?P<id>\d+)_assign(?:submission|feedback)_[a-z]+_"),
    ("canvas", r"(?:^|/)(?P<name>[a-z0-9-]+)(?:_late)?_(?P<id>\d+)_(?P<attachment>\d+)_[^/]+$"),
    (
        "blackboard",
        r"(?:^|/)(?P<assignment>[^/]*?)_(?P<id>[^/_]+)_attempt_\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}",
    ),
    ("nbgrader", r"^(?:submitted/)?(?P<id>[^/]+)/(?P<assignment>[^/]+)/[^/]+\.ipynb$"),
    ("folder", r"^(?P<id>[^/]+)/.+$"),
    ("file", r"^(?P<id>[^/]+?)(?:\.[A-Za-z0-9]+)?$"),
)

_IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")
#: The longest student id kept whole; longer ones end in a hash of the whole.
MAX_ID = 100


def printable(text: str, limit: int | None = None) -> str:
    """``text`` as a person and every file format can take it: bytes that were not valid UTF-8
    (kept by Python as surrogates) and control characters written as ``\\xNN`` escapes; longer
    than ``limit`` characters, cut and given a short hash of the whole, so it stays unique."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = "".join(
        c if unicodedata.category(c)[0] != "C" else c.encode("unicode_escape").decode("ascii")
        for c in text
    )
    if limit is not None and len(text) > limit:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
        text = f"{text[: limit - 11]}~{digest}"
    return text


_BLACKBOARD_RECEIPT = re.compile(r"_attempt_\d{4}(?:-\d{2}){5}\.txt$")


@dataclass(frozen=True)
class SubmittedFile:
    """One file of a submission: where it is and how to read it (never modified)."""

    name: str  # path relative to the folder or zip, "/"-separated
    origin: Path  # the folder or the zip file
    member: str | None = None  # the zip member's own name
    size: int = 0

    def read_bytes(self, max_bytes: int = MAX_FILE_BYTES) -> bytes:
        if self.size > max_bytes:
            raise OSError(f"{self.name} is larger than {max_bytes // (1024 * 1024)} MB")
        if self.member is None:
            with open(self.origin / self.name, "rb") as handle:
                return handle.read(max_bytes + 1)
        with zipfile.ZipFile(self.origin) as archive, archive.open(self.member) as handle:
            return handle.read(max_bytes + 1)

    @property
    def shown(self) -> str:
        """The name as the sheets and notes show it (see :func:`printable`)."""
        return printable(self.name, 300)


@dataclass
class Submission:
    student_id: str
    convention: str
    files: list[SubmittedFile] = field(default_factory=list)

    def candidates(self, exercise: str | None = None) -> list[SubmittedFile]:
        """Notebooks first (those named like the exercise first), then any other files."""

        def rank(f: SubmittedFile):
            named = bool(exercise) and exercise.lower() in PurePosixPath(f.name).name.lower()
            return (not f.name.lower().endswith(".ipynb"), not named, f.name)

        return sorted(self.files, key=rank)


@dataclass
class Discovery:
    submissions: list[Submission]
    #: Files that were not taken, with the reason (shown in the summary).
    skipped: list[tuple[str, str]] = field(default_factory=list)


def student_id_from(path: str, pattern: str | re.Pattern | None = None) -> tuple[str, str] | None:
    """``(student id, convention)`` for a relative path, or None when no pattern matches."""
    patterns = [(n, re.compile(p, re.I)) for n, p in CONVENTIONS]
    if pattern is not None:
        patterns = [("pattern", re.compile(pattern))]
        if "id" not in patterns[0][1].groupindex:
            raise ValueError(
                f"the student-id pattern {patterns[0][1].pattern!r} has no named group (?P<id>...)"
            )
    for name, regex in patterns:
        match = regex.search(path)
        if match and match.group("id"):
            return match.group("id").strip(), name
    return None


def _listing(source: Path) -> list[SubmittedFile]:
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(f"{source} is neither a folder nor a zip file")
        with zipfile.ZipFile(source) as archive:
            return [
                SubmittedFile(
                    info.filename.replace("\\", "/").lstrip("/"),
                    source,
                    info.filename,
                    info.file_size,
                )
                for info in archive.infolist()
                if not info.is_dir()
            ]
    if not source.is_dir():
        raise FileNotFoundError(f"no folder or zip file at {source}")
    return [
        SubmittedFile(path.relative_to(source).as_posix(), source, None, path.stat().st_size)
        for path in sorted(source.rglob("*"))
        if path.is_file()
    ]


def _ignored(name: str) -> bool:
    parts = name.split("/")
    return any(p.startswith(".") or p in _IGNORED_PARTS for p in parts)


def discover(source: str | Path, *, pattern: str | re.Pattern | None = None) -> Discovery:
    """Every submission in a folder or zip, grouped by student id (sorted by id)."""
    source = Path(source)
    files = [f for f in _listing(source) if not _ignored(f.name)]
    skipped: list[tuple[str, str]] = []
    # One top folder around everything is a wrapper, not a student.
    prefix = ""
    tops = {f.name.split("/", 1)[0] for f in files}
    if len(tops) == 1 and all("/" in f.name for f in files) and len(files) > 1:
        prefix = next(iter(tops)) + "/"
    by_id: dict[str, Submission] = {}
    for file in files:
        relative = file.name[len(prefix) :]
        if _BLACKBOARD_RECEIPT.search(relative):
            skipped.append((file.shown, "Blackboard submission receipt"))
            continue
        found = student_id_from(relative, pattern)
        if found is None:
            skipped.append((file.shown, "no student id in its name (see --id-pattern)"))
            continue
        student, convention = found
        student = printable(student, MAX_ID)
        by_id.setdefault(student, Submission(student, convention)).files.append(file)
    return Discovery([by_id[k] for k in sorted(by_id)], skipped)
