"""Participants: each has an unguessable personal link and their own shuffled order of the questions."""

from __future__ import annotations

import random
import secrets
import sqlite3
import statistics
import time

from pydantic import BaseModel

from dermgan.study.store import transaction

TOKEN_BYTES = 24
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
"""secrets.token_urlsafe(24): 32 characters, 192 random bits."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Participant(BaseModel):
    id: int
    name: str
    token: str
    csrf: str
    consented_at: float | None


class Progress(BaseModel):
    """How far one participant is; seconds are the median time spent on an answer."""

    name: str
    consented: bool
    answered: int
    total: int
    median_seconds: float | None
    last_answer_at: float | None


def add_participants(connection: sqlite3.Connection, count: int, seed: int) -> list[Participant]:
    """`count` new participants named P01, P02, ... after the existing ones, each with a seeded order."""
    questions = [row[0] for row in connection.execute("SELECT id FROM questions ORDER BY id")]
    added = []
    with transaction(connection):
        first = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM participants").fetchone()[0]
        for number in range(first, first + count):
            token, csrf = new_token(), new_token()
            name = f"P{number:02d}"
            connection.execute(
                "INSERT INTO participants (id, name, token, csrf, created_at) VALUES (?, ?, ?, ?, ?)",
                (number, name, token, csrf, time.time()),
            )
            order = list(questions)
            random.Random(f"{seed}-{number}").shuffle(order)
            connection.executemany(
                "INSERT INTO schedule (participant_id, position, question_id) VALUES (?, ?, ?)",
                [(number, position, question) for position, question in enumerate(order)],
            )
            added.append(Participant(id=number, name=name, token=token, csrf=csrf, consented_at=None))
    return added


def find_participant(connection: sqlite3.Connection, token: str) -> Participant | None:
    row = connection.execute(
        "SELECT id, name, token, csrf, consented_at FROM participants WHERE token = ?", (token,)
    ).fetchone()
    return Participant(**dict(row)) if row else None


def progress(connection: sqlite3.Connection) -> list[Progress]:
    """Every participant's progress, in the order they were added."""
    seconds: dict[int, list[float]] = {}
    last: dict[int, float] = {}
    for row in connection.execute("SELECT participant_id, answered_at, seconds FROM answers"):
        if row["seconds"] is not None:
            seconds.setdefault(row["participant_id"], []).append(row["seconds"])
        last[row["participant_id"]] = max(last.get(row["participant_id"], 0.0), row["answered_at"])
    rows = connection.execute(
        "SELECT p.id, p.name, p.consented_at, "
        "(SELECT COUNT(*) FROM answers a WHERE a.participant_id = p.id) AS answered, "
        "(SELECT COUNT(*) FROM schedule s WHERE s.participant_id = p.id) AS total "
        "FROM participants p ORDER BY p.id"
    )
    return [
        Progress(
            name=row["name"],
            consented=row["consented_at"] is not None,
            answered=row["answered"],
            total=row["total"],
            median_seconds=statistics.median(seconds[row["id"]]) if row["id"] in seconds else None,
            last_answer_at=last.get(row["id"]),
        )
        for row in rows
    ]
