"""Scoring: how often participants picked real and synthetic images, per participant and condition.

Both studies reduce to one count. Turing test: a picked image was judged real, so the real rate is the
TPR and the synthetic rate the FPR (paper Fig. 7a). Relevance test: only images of the question's own
condition count, and a picked one was recognised, so the rates are the recalls of real and synthetic
images (Fig. 7b). The summary of a condition is the mean and the (population) standard deviation of the
participants' rates; a participant who has not yet answered any image of a kind is left out of its mean.
"""

from __future__ import annotations

import sqlite3
import statistics

from pydantic import BaseModel

from dermgan.study.participants import Progress, progress
from dermgan.study.store import read_meta

ALL = "all"
RATE_NAMES = {
    "turing": ("tpr", "fpr"),
    "relevance": ("recall_real", "recall_synthetic"),
}
"""What the real and synthetic rates are called in each kind of study's CSV columns."""
RATE_LABELS = {
    "turing": ("TPR (real judged real)", "FPR (synthetic judged real)"),
    "relevance": ("recall of real images", "recall of synthetic images"),
}
"""The same, for people: plot legends and the admin page."""


class Rates(BaseModel):
    participant: str
    condition: str
    n_real: int
    n_real_picked: int
    n_synthetic: int
    n_synthetic_picked: int
    real_rate: float | None
    synthetic_rate: float | None


class Summary(BaseModel):
    condition: str
    n_participants: int
    real_mean: float | None
    real_std: float | None
    synthetic_mean: float | None
    synthetic_std: float | None


class StudyResults(BaseModel):
    study: str
    kind: str
    real_rate_name: str
    synthetic_rate_name: str
    progress: list[Progress]
    participants: list[Rates]
    conditions: list[Summary]


def _counted_picks(connection: sqlite3.Connection, kind: str) -> list[sqlite3.Row]:
    """(participant, condition, source, picked) for every answered image that the score counts."""
    target_only = "AND i.condition = q.condition" if kind == "relevance" else ""
    return connection.execute(
        "SELECT p.name AS participant, i.condition, i.source, k.picked FROM picks k "
        "JOIN participants p ON p.id = k.participant_id JOIN images i ON i.id = k.image_id "
        f"JOIN questions q ON q.id = k.question_id WHERE 1 {target_only} ORDER BY p.id, i.condition"
    ).fetchall()


def _rate(picked: int, shown: int) -> float | None:
    return picked / shown if shown else None


def _participant_rates(rows: list[sqlite3.Row]) -> list[Rates]:
    counts: dict[tuple[str, str], dict[str, list[int]]] = {}
    for row in rows:
        for condition in (row["condition"], ALL):
            cell = counts.setdefault((row["participant"], condition), {"real": [0, 0], "synthetic": [0, 0]})
            cell[row["source"]][0] += 1
            cell[row["source"]][1] += row["picked"]
    return [
        Rates(
            participant=participant,
            condition=condition,
            n_real=cell["real"][0],
            n_real_picked=cell["real"][1],
            n_synthetic=cell["synthetic"][0],
            n_synthetic_picked=cell["synthetic"][1],
            real_rate=_rate(cell["real"][1], cell["real"][0]),
            synthetic_rate=_rate(cell["synthetic"][1], cell["synthetic"][0]),
        )
        for (participant, condition), cell in counts.items()
    ]


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    present = [value for value in values if value is not None]
    if not present:
        return None, None
    return statistics.fmean(present), statistics.pstdev(present)


def _summaries(rates: list[Rates]) -> list[Summary]:
    conditions = [*sorted({r.condition for r in rates} - {ALL}), ALL] if rates else []
    summaries = []
    for condition in conditions:
        rows = [r for r in rates if r.condition == condition]
        real_mean, real_std = _mean_std([r.real_rate for r in rows])
        synthetic_mean, synthetic_std = _mean_std([r.synthetic_rate for r in rows])
        summaries.append(
            Summary(
                condition=condition,
                n_participants=len(rows),
                real_mean=real_mean,
                real_std=real_std,
                synthetic_mean=synthetic_mean,
                synthetic_std=synthetic_std,
            )
        )
    return summaries


def score(connection: sqlite3.Connection, study: str) -> StudyResults:
    """The study's results as they stand (answers given so far)."""
    kind = read_meta(connection).kind
    rates = _participant_rates(_counted_picks(connection, kind))
    real_name, synthetic_name = RATE_NAMES[kind]
    return StudyResults(
        study=study,
        kind=kind,
        real_rate_name=real_name,
        synthetic_rate_name=synthetic_name,
        progress=progress(connection),
        participants=rates,
        conditions=_summaries(rates),
    )
