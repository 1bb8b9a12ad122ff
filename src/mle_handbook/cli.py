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


def _cmd_clear(args) -> int:
    from .notebooks import clear_file

    for path in args.notebooks:
        changed = clear_file(path)
        print(f"{path}: {'outputs cleared' if changed else 'already clean'}")
    return 0


def _cmd_student(args) -> int:
    from .notebooks import write_student_version

    write_student_version(args.notebook, args.output)
    print(f"wrote {args.output}")
    return 0


def _cmd_install_kernel(args) -> int:
    from .kernel import install_kernel

    path = install_kernel()
    if not args.quiet:
        print(f"installed kernel spec in {path}")
    return 0


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
