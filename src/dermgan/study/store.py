"""The study database: one SQLite file (WAL, foreign keys) with images, questions, participants, answers.

Every write runs in its own short `BEGIN IMMEDIATE` transaction on a connection of its own, so concurrent
participants never see each other half-done and a killed server keeps every committed answer.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel

from dermgan.errors import UserError

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (
    id TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('real', 'synthetic')),
    condition TEXT NOT NULL,
    skin_type TEXT NOT NULL,
    origin TEXT NOT NULL
);
CREATE TABLE questions (id INTEGER PRIMARY KEY, condition TEXT NOT NULL);
CREATE TABLE question_images (
    question_id INTEGER NOT NULL REFERENCES questions (id),
    slot INTEGER NOT NULL,
    image_id TEXT NOT NULL REFERENCES images (id),
    PRIMARY KEY (question_id, slot),
    UNIQUE (question_id, image_id)
);
CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    consented_at REAL
);
CREATE TABLE schedule (
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    position INTEGER NOT NULL,
    question_id INTEGER NOT NULL REFERENCES questions (id),
    shown_at REAL,
    PRIMARY KEY (participant_id, position),
    UNIQUE (participant_id, question_id)
);
CREATE TABLE answers (
    participant_id INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    answered_at REAL NOT NULL,
    seconds REAL,
    PRIMARY KEY (participant_id, question_id),
    FOREIGN KEY (participant_id, question_id) REFERENCES schedule (participant_id, question_id)
);
CREATE TABLE picks (
    participant_id INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    image_id TEXT NOT NULL,
    picked INTEGER NOT NULL CHECK (picked IN (0, 1)),
    PRIMARY KEY (participant_id, question_id, image_id),
    FOREIGN KEY (participant_id, question_id) REFERENCES answers (participant_id, question_id),
    FOREIGN KEY (question_id, image_id) REFERENCES question_images (question_id, image_id)
);
"""

KINDS = ("turing", "relevance")


class StudyMeta(BaseModel):
    """What a study is, written once by `study create`."""

    kind: str
    image_size: int
    seed: int
    admin_token: str
    admin_csrf: str


STUDY_TABLES = frozenset(re.findall(r"CREATE TABLE (\w+)", SCHEMA))


def _is_study(path: Path) -> bool:
    """Whether `path` holds a study's tables, read without changing the file in any way: opening another
    application's database read-write would switch it to WAL mode (and leave -wal/-shm files)."""
    try:
        reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} cannot be opened as a study database ({error})") from None
    try:
        tables = {row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return tables >= STUDY_TABLES
    except sqlite3.DatabaseError:
        return False
    finally:
        reader.close()


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """An autocommit connection to an existing study; UserError when the file is not one (which is then
    left exactly as it was)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"study {path} does not exist; make one with `dermgan study create`")
    if not _is_study(path):
        raise UserError(f"{path} is not a study database written by `dermgan study create`")
    return open_database(path)


def open_database(path: Path, journal: str = "WAL") -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        connection.execute(f"PRAGMA journal_mode = {journal}")
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} is not a study database ({error})") from None
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


@contextmanager
def transaction(connection: sqlite3.Connection, durable: bool = False) -> Iterator[sqlite3.Connection]:
    """One atomic write; `durable` syncs the commit to disk (answers survive even a power cut)."""
    if durable:
        connection.execute("PRAGMA synchronous = FULL")
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        if durable:
            connection.execute("PRAGMA synchronous = NORMAL")


def read_meta(connection: sqlite3.Connection) -> StudyMeta:
    values = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    return StudyMeta.model_validate(values)


def write_meta(connection: sqlite3.Connection, meta: StudyMeta) -> None:
    connection.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [(k, str(v)) for k, v in meta.model_dump().items()]
    )
