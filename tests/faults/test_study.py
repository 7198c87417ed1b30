"""The study database: another application's SQLite file is left untouched, a failed create leaves none."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from faults.conftest import error_line, file_size_limit, run, study_arguments


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_results_of_a_foreign_sqlite_file_leave_it_exactly_as_it_was(monkeypatch, capsys, tmp_path):
    foreign = tmp_path / "app.db"
    connection = sqlite3.connect(foreign)
    connection.executescript("CREATE TABLE meta (key TEXT); CREATE TABLE orders (id INTEGER);")
    connection.close()
    before = _digest(foreign)
    code, _, err = run(monkeypatch, capsys, "study", "results", foreign, "--out", tmp_path / "r")
    error_line(code, err, str(foreign), "is not a study database")
    assert _digest(foreign) == before and sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
    connection = sqlite3.connect(foreign)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()


def test_results_of_a_file_that_is_not_sqlite_is_one_line(monkeypatch, capsys, tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("just some notes")
    code, _, err = run(monkeypatch, capsys, "study", "results", text, "--out", tmp_path / "r")
    error_line(code, err, str(text), "is not a study database")
    assert text.read_text() == "just some notes"


def test_a_full_disk_during_create_leaves_no_wal_or_shm(monkeypatch, capsys, tmp_path, study_manifests):
    study = tmp_path / "study.db"
    with file_size_limit(20_000):
        code, _, err = run(monkeypatch, capsys, *study_arguments(study_manifests, study))
    error_line(code, err, f"cannot write the study {study}")
    assert list(tmp_path.iterdir()) == []
    code, _, _ = run(monkeypatch, capsys, *study_arguments(study_manifests, study))
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "study", "results", study, "--out", tmp_path / "r")
    assert code == 0 and "0 answers from 2 participants" in out
