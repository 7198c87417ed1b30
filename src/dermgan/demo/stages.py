"""Stages that skip themselves: a stage runs again only when its settings or its inputs changed.

OUT/stages.json records, per stage, the fingerprint it was started with (sha256 of its settings and of the
fingerprints of the stages it reads) and whether it finished. A finished stage with the same fingerprint and
its outputs in place is skipped, unless a stage it reads runs again now. An unfinished one with the same
fingerprint runs again, and its own work resumes (training from its checkpoint, generation from the images
already written). A stage whose fingerprint changed, or whose inputs were made again, has its outputs
deleted first, so nothing made from old settings or old inputs is mixed in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dermgan import console
from dermgan.files import write_json

STAGES_FILE = "stages.json"


@dataclass
class Stage:
    name: str
    title: str
    run: Callable[[], Any]
    outputs: Sequence[Path]
    settings: dict[str, Any] = field(default_factory=dict)
    needs: Sequence[str] = ()
    estimate_s: float = 0.0
    """Expected wall time on 2 CPU cores, shown before the stage starts."""


class StageRecord(BaseModel):
    fingerprint: str
    finished: bool = False
    seconds: float | None = None
    settings: dict[str, Any] = {}


class StageOutcome(BaseModel):
    name: str
    skipped: bool
    seconds: float


def fingerprint(settings: dict[str, Any], upstream: Sequence[str]) -> str:
    text = json.dumps([settings, list(upstream)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_records(out: Path) -> dict[str, StageRecord]:
    path = out / STAGES_FILE
    if not path.exists():
        return {}
    return {name: StageRecord(**record) for name, record in json.loads(path.read_text()).items()}


def _save(out: Path, records: dict[str, StageRecord]) -> None:
    write_json(out / STAGES_FILE, {name: record.model_dump(mode="json") for name, record in records.items()})


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def run_stages(out: Path, stages: Sequence[Stage]) -> list[StageOutcome]:
    """Runs each stage in order unless it is up to date; records every start and finish in stages.json."""
    records = read_records(out)
    prints: dict[str, str] = {}
    ran: set[str] = set()
    outcomes = []
    for number, stage in enumerate(stages, start=1):
        prints[stage.name] = fingerprint(stage.settings, [prints[name] for name in stage.needs])
        record = records.get(stage.name)
        label = f"[{number}/{len(stages)}] {stage.title}"
        # A stage that reads one run again now (its output was missing) was made from the old output.
        up_to_date = (
            record is not None
            and record.fingerprint == prints[stage.name]
            and not any(name in ran for name in stage.needs)
        )
        if up_to_date and record.finished and all(path.exists() for path in stage.outputs):
            console.out.print(f"{label}: up to date, skipped", markup=False)
            outcomes.append(StageOutcome(name=stage.name, skipped=True, seconds=0.0))
            continue
        if not up_to_date:
            for path in stage.outputs:
                _remove(path)
        estimate = f" (about {_duration(stage.estimate_s)})" if stage.estimate_s else ""
        console.out.print(f"{label}{estimate}", markup=False)
        records[stage.name] = StageRecord(fingerprint=prints[stage.name], settings=stage.settings)
        _save(out, records)
        start = time.perf_counter()
        stage.run()
        ran.add(stage.name)
        seconds = time.perf_counter() - start
        records[stage.name] = records[stage.name].model_copy(update={"finished": True, "seconds": seconds})
        _save(out, records)
        console.out.print(f"{label}: done in {_duration(seconds)}", markup=False)
        outcomes.append(StageOutcome(name=stage.name, skipped=False, seconds=seconds))
    return outcomes
