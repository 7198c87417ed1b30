"""Atomic writes leave either the old file or the whole new one, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dermgan.files import atomic_path, write_text


def test_written_files_get_the_permissions_open_would_give(tmp_path: Path):
    write_text(tmp_path / "a.txt", "hello")
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt") as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
