"""`dermgan study results`: the scores as results.json, two CSV tables and the figure."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from dermgan.errors import UserError, fault_message
from dermgan.files import write_json, write_text
from dermgan.study.plots import plot_rates
from dermgan.study.scoring import RATE_NAMES, StudyResults, score
from dermgan.study.store import connect


def _renamed(row: BaseModel, kind: str) -> dict:
    """CSV columns named for the study: tpr/fpr or recall_real/recall_synthetic, not real/synthetic rate."""
    names = dict(zip(("real", "synthetic"), RATE_NAMES[kind], strict=True))
    columns = {f"{source}_rate": name for source, name in names.items()}
    columns |= {
        f"{source}_{stat}": f"{name}_{stat}" for source, name in names.items() for stat in ("mean", "std")
    }
    return {columns.get(key, key): value for key, value in row.model_dump().items()}


def _csv(rows: Sequence[BaseModel], kind: str) -> str:
    dicts = [_renamed(row, kind) for row in rows]
    buffer = io.StringIO()
    if dicts:
        writer = csv.DictWriter(buffer, fieldnames=list(dicts[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(dicts)
    return buffer.getvalue()


def study_results(study: str | os.PathLike[str], out: str | os.PathLike[str]) -> StudyResults:
    """Scores the study and writes results.json, participants.csv, conditions.csv and KIND.png into `out`."""
    out = Path(out)
    connection = connect(study)
    try:
        results = score(connection, str(study))
    finally:
        connection.close()
    try:
        write_json(out / "results.json", results.model_dump(mode="json"))
        write_text(out / "participants.csv", _csv(results.participants, results.kind))
        write_text(out / "conditions.csv", _csv(results.conditions, results.kind))
        plot_rates(results, out / f"{results.kind}.png")
    except OSError as error:
        raise UserError(f"cannot write the results into {out}: {fault_message(error) or error}") from None
    return results
