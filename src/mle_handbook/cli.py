"""The ``mle-handbook`` command: a thin layer that parses options and calls the package's functions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_check(args) -> int:
    from .exercises.verify import verify_exercise

    status = 0
    for path in args.notebooks:
        verification = verify_exercise(path, timeout=args.timeout)
        print(verification.report())
        status |= 0 if verification.ok else 1
    return status


def _cmd_validate(args) -> int:
    import nbformat

    from .exercises.validate import ExerciseFormatError, validate

    status = 0
    for path in args.notebooks:
        try:
            validate(nbformat.read(path, as_version=4), path)
            print(f"{path}: valid")
        except ExerciseFormatError as exc:
            print(exc, file=sys.stderr)
            status = 1
    return status


def _write_notebook(nb, path: Path) -> None:
    """Write ``nb`` as ``nbformat.write`` does (a final newline), but atomically."""
    import nbformat

    from .files import write_text_atomic

    text = nbformat.writes(nb)
    write_text_atomic(path, text if text.endswith("\n") else text + "\n")


def _cmd_clear(args) -> int:
    import nbformat

    from .exercises.student import clear_outputs

    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        cleared = clear_outputs(nb)
        if cleared != nb:
            _write_notebook(cleared, path)
        print(f"{path}: {'outputs cleared' if cleared != nb else 'already clean'}")
    return 0


def _cmd_student(args) -> int:
    import nbformat

    from .exercises.student import student_version

    _write_notebook(student_version(nbformat.read(args.notebook, as_version=4)), args.output)
    print(f"wrote {args.output}")
    return 0


def _cmd_install_kernel(args) -> int:
    """The project's Jupyter kernel spec, in the environment's prefix (``.venv/share/jupyter``)."""
    from ipykernel.kernelspec import install

    path = install(
        kernel_name="mle-handbook", display_name="Python (ML Engineer Handbook)", prefix=sys.prefix
    )
    if not args.quiet:
        print(f"installed kernel spec in {path}")
    return 0


def _cmd_release(args) -> int:
    from .grading.release import release

    for entry in release(
        args.exercises or None, args.out, zip=not args.no_zip, nbgrader_course=args.nbgrader
    ):
        print(f"{entry.exercise}: {entry.folder}" + (f", {entry.zip}" if entry.zip else ""))
    if args.nbgrader:
        print(f"nbgrader course: {args.nbgrader} (run nbgrader generate_assignment there)")
    return 0


def _cmd_grade(args) -> int:
    from .grading.run import SourceCheckFailed, grade

    try:
        run = grade(
            args.exercise,
            args.submissions,
            args.out,
            jobs=args.jobs,
            timeout=args.timeout,
            memory_mb=args.memory_mb,
            id_pattern=args.id_pattern,
            manual_marks_file=args.manual_marks,
            confine=not args.no_confine,
            isolate=not args.no_isolation,
            reviewed=tuple(args.reviewed),
            check_source=not args.no_source_check,
        )
    except SourceCheckFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    print(run.summary())
    return 0


def _cmd_start(args) -> int:
    from .learners.start import StartError, start

    try:
        report = start(args.root, args.work)
    except StartError as exc:
        print(f"mle-handbook start: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 0


def _cmd_progress(args) -> int:
    from .learners.progress import ProgressError, progress

    try:
        report = progress(args.work, args.notebooks, jobs=args.jobs, timeout=args.timeout)
    except ProgressError as exc:
        print(f"mle-handbook progress: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mle-handbook", description="Tools for the ML Engineer Handbook (UK)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="prove exercises honest: source passes, student version fails")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--timeout", type=int, default=180, help="per-cell timeout in seconds")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("validate", help="check exercise notebooks' nbgrader format only")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("clear", help="remove outputs from notebooks before committing")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.set_defaults(func=_cmd_clear)

    p = sub.add_parser("student", help="write the student version of one exercise")
    p.add_argument("notebook", type=Path)
    p.add_argument("output", type=Path)
    p.set_defaults(func=_cmd_student)

    p = sub.add_parser("install-kernel", help="register the project's Jupyter kernel in .venv")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_install_kernel)

    p = sub.add_parser(
        "release", help="student notebooks and zips for a class (or an nbgrader course)"
    )
    p.add_argument("exercises", nargs="*", help="exercise names or paths (default: all)")
    p.add_argument("--out", type=Path, default=Path("release"), help="output folder")
    p.add_argument("--no-zip", action="store_true", help="do not write a zip per exercise")
    p.add_argument(
        "--nbgrader", type=Path, metavar="COURSE_DIR", help="also write an nbgrader course"
    )
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("grade", help="grade a folder or zip of submissions of one exercise")
    p.add_argument("exercise", help="exercise name or path to its source notebook")
    p.add_argument(
        "submissions", type=Path, help="folder or zip, as the learning platform gives it"
    )
    p.add_argument("--out", type=Path, default=Path("grades"), help="output folder")
    p.add_argument(
        "--jobs", type=int, default=None, help="submissions graded at once (default: cores)"
    )
    p.add_argument(
        "--timeout", type=float, default=None, help="per-cell seconds (default: the exercise's)"
    )
    p.add_argument("--memory-mb", type=int, default=4096, help="address space per kernel")
    p.add_argument("--id-pattern", help="regex with (?P<id>...) matched against each file's path")
    p.add_argument("--manual-marks", type=Path, help="filled-in manual-marks.csv to apply")
    p.add_argument("--no-confine", action="store_true", help="do not restrict kernels' file access")
    p.add_argument(
        "--no-isolation", action="store_true", help="do not run kernels in their own namespaces"
    )
    p.add_argument(
        "--reviewed",
        action="append",
        default=[],
        metavar="STUDENT_ID",
        help="a student whose code you have read: its reach no longer withholds marks",
    )
    p.add_argument(
        "--no-source-check", action="store_true", help="skip grading the model answers first"
    )
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("start", help="create or refresh your working folder (work/) of notebooks")
    p.add_argument("--root", type=Path, default=Path("."), help="the handbook's folder")
    p.add_argument("--work", type=Path, default=None, help="working folder (default: ROOT/work)")
    p.set_defaults(func=_cmd_start)

    p = sub.add_parser("progress", help="run copies of your exercises and show what the checks say")
    p.add_argument("notebooks", nargs="*", help="exercise names or paths (default: all in WORK)")
    p.add_argument("--work", type=Path, default=Path("work"), help="working folder")
    p.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    p.add_argument(
        "--timeout", type=int, default=None, help="per-cell seconds (default: notebook's)"
    )
    p.set_defaults(func=_cmd_progress)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
