"""Stages skip themselves when up to date, rerun after a change, and resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dermgan.demo.stages import STAGES_FILE, Stage, run_stages


class Counter:
    """A stage body that writes its output file and counts its runs; it can be told to fail once."""

    def __init__(self, path: Path):
        self.path, self.runs, self.fail, self.found = path, 0, False, ""

    def __call__(self) -> None:
        self.runs += 1
        self.found = self.path.read_text() if self.path.exists() else ""
        if self.fail:
            self.fail = False
            self.path.write_text("partial")
            raise KeyboardInterrupt
        self.path.write_text(f"run {self.runs}")


def pipeline(out: Path, bodies: dict[str, Counter], size: int = 1) -> list[Stage]:
    return [
        Stage("data", "data", bodies["data"], outputs=[bodies["data"].path], settings={"size": size}),
        Stage("model", "model", bodies["model"], outputs=[bodies["model"].path], needs=["data"]),
        Stage("figure", "figure", bodies["figure"], outputs=[bodies["figure"].path], settings={"n": 4}),
    ]


@pytest.fixture
def bodies(tmp_path: Path) -> dict[str, Counter]:
    return {name: Counter(tmp_path / f"{name}.txt") for name in ("data", "model", "figure")}


def test_a_second_run_skips_every_stage(tmp_path: Path, bodies):
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    outcomes = run_stages(tmp_path, pipeline(tmp_path, bodies))
    assert [outcome.skipped for outcome in outcomes] == [True, True, True]
    assert [body.runs for body in bodies.values()] == [1, 1, 1]
    records = json.loads((tmp_path / STAGES_FILE).read_text())
    assert all(record["finished"] and record["seconds"] >= 0 for record in records.values())


def test_a_changed_setting_reruns_its_stage_and_those_that_read_it_only(tmp_path: Path, bodies):
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    outcomes = run_stages(tmp_path, pipeline(tmp_path, bodies, size=2))
    assert [outcome.skipped for outcome in outcomes] == [False, False, True]
    assert [body.runs for body in bodies.values()] == [2, 2, 1]


def test_a_missing_output_reruns_its_stage(tmp_path: Path, bodies):
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    bodies["figure"].path.unlink()
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    assert [body.runs for body in bodies.values()] == [1, 1, 2]


def test_a_stage_made_again_for_a_missing_output_remakes_those_that_read_it(tmp_path: Path, bodies):
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    bodies["data"].path.unlink()
    outcomes = run_stages(tmp_path, pipeline(tmp_path, bodies))
    assert [outcome.skipped for outcome in outcomes] == [False, False, True]
    assert [body.runs for body in bodies.values()] == [2, 2, 1]
    assert bodies["model"].found == ""


def test_an_interrupted_stage_runs_again_and_keeps_its_outputs_to_resume_from(tmp_path: Path, bodies):
    bodies["model"].fail = True
    with pytest.raises(KeyboardInterrupt):
        run_stages(tmp_path, pipeline(tmp_path, bodies))
    records = json.loads((tmp_path / STAGES_FILE).read_text())
    assert records["data"]["finished"] and not records["model"]["finished"]
    outcomes = run_stages(tmp_path, pipeline(tmp_path, bodies))
    assert [outcome.skipped for outcome in outcomes] == [True, False, False]
    assert bodies["model"].found == "partial"


def test_a_changed_stage_starts_from_nothing(tmp_path: Path, bodies):
    run_stages(tmp_path, pipeline(tmp_path, bodies))
    run_stages(tmp_path, pipeline(tmp_path, bodies, size=3))
    assert bodies["model"].found == "" and bodies["model"].runs == 2
