"""The one atomic-write helper: whole files or none, and nothing clobbered on error."""

from __future__ import annotations

import pytest

from mle_handbook.files import write_bytes_atomic, write_text_atomic


def test_new_file_is_written_whole_and_readable_by_others(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    write_text_atomic(target, "café\n")
    assert target.read_text(encoding="utf-8") == "café\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_replacing_keeps_the_old_files_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o600)
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
