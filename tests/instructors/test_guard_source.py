"""The guard the grader sends into each kernel is one module made of two files: every name it uses
must be defined in it (a name only imported in one file would fail in every kernel)."""

from __future__ import annotations

import builtins
import dis
import types

from mle_handbook.grading.runner import GUARD_SOURCE


def _global_names(code: types.CodeType):
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            yield instruction.argval
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_names(const)


def test_the_guard_sent_to_kernels_defines_every_name_it_uses():
    module = types.ModuleType("_guard_test")
    code = compile(GUARD_SOURCE, "<grader>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - the grader does exactly this in each kernel
    guard = module.Guard
    missing = set()
    for function in vars(guard).values():
        if isinstance(function, types.FunctionType):
            for name in _global_names(function.__code__):
                if name not in function.__globals__ and not hasattr(builtins, name):
                    missing.add(name)
    assert missing == set()
