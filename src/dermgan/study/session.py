"""One participant's way through their questions: consent, the current question, answers stored once.

The current question is always the first unanswered one of the participant's order, so a reload, a
restart of the server or coming back a week later shows the same screen; nothing is kept in memory.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from dermgan.study.participants import Participant
from dermgan.study.store import transaction


class Refused(Exception):
    """An answer the study does not accept; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Screen:
    """The question a participant is on: its condition, image ids in display order, and where they are."""

    question_id: int
    condition: str
    image_ids: list[str]
    position: int
    total: int


def consent(connection: sqlite3.Connection, participant: Participant) -> None:
    with transaction(connection):
        connection.execute(
            "UPDATE participants SET consented_at = COALESCE(consented_at, ?) WHERE id = ?",
            (time.time(), participant.id),
        )


def _image_ids(connection: sqlite3.Connection, question_id: int) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT image_id FROM question_images WHERE question_id = ? ORDER BY slot", (question_id,)
        )
    ]


def _unanswered(connection: sqlite3.Connection, participant_id: int, limit: int) -> list[sqlite3.Row]:
    return connection.execute(
        "SELECT s.position, s.question_id, q.condition FROM schedule s "
        "JOIN questions q ON q.id = s.question_id "
        "LEFT JOIN answers a ON a.participant_id = s.participant_id AND a.question_id = s.question_id "
        "WHERE s.participant_id = ? AND a.question_id IS NULL ORDER BY s.position LIMIT ?",
        (participant_id, limit),
    ).fetchall()


def screens(connection: sqlite3.Connection, participant: Participant, count: int = 2) -> list[Screen]:
    """The current screen and the next `count - 1` (to preload their images); empty when finished."""
    total = connection.execute(
        "SELECT COUNT(*) FROM schedule WHERE participant_id = ?", (participant.id,)
    ).fetchone()[0]
    return [
        Screen(
            row["question_id"], row["condition"], _image_ids(connection, row["question_id"]), row[0], total
        )
        for row in _unanswered(connection, participant.id, count)
    ]


def mark_shown(connection: sqlite3.Connection, participant: Participant, screen: Screen) -> None:
    """The clock of an answer starts when its screen is (last) shown."""
    with transaction(connection):
        connection.execute(
            "UPDATE schedule SET shown_at = ? WHERE participant_id = ? AND question_id = ?",
            (time.time(), participant.id, screen.question_id),
        )


def record_answer(
    connection: sqlite3.Connection, participant: Participant, question_id: int, picked: list[str]
) -> bool:
    """Stores the answer to the current question, durably; False for a replay of a stored answer."""
    if participant.consented_at is None:
        raise Refused(409, "Please read the instructions and agree before answering.")
    if len(set(picked)) != len(picked):
        raise Refused(400, "An image was picked twice.")
    with transaction(connection, durable=True):
        scheduled = connection.execute(
            "SELECT shown_at FROM schedule WHERE participant_id = ? AND question_id = ?",
            (participant.id, question_id),
        ).fetchone()
        if scheduled is None:
            raise Refused(400, "This question is not part of your study.")
        stored = connection.execute(
            "SELECT 1 FROM answers WHERE participant_id = ? AND question_id = ?",
            (participant.id, question_id),
        ).fetchone()
        if stored is not None:
            return False
        if _unanswered(connection, participant.id, 1)[0]["question_id"] != question_id:
            raise Refused(409, "This is not the question on your screen; reload the page.")
        shown = _image_ids(connection, question_id)
        if not set(picked) <= set(shown):
            raise Refused(400, "An answer named an image that is not on this question.")
        now = time.time()
        seconds = None if scheduled["shown_at"] is None else max(0.0, now - scheduled["shown_at"])
        connection.execute(
            "INSERT INTO answers (participant_id, question_id, answered_at, seconds) VALUES (?, ?, ?, ?)",
            (participant.id, question_id, now, seconds),
        )
        connection.executemany(
            "INSERT INTO picks (participant_id, question_id, image_id, picked) VALUES (?, ?, ?, ?)",
            [(participant.id, question_id, image, int(image in picked)) for image in shown],
        )
    return True
