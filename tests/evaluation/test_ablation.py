"""The Table 1 runner on tiny models: trains the four rows, evaluates them beside the real floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fid_helpers import tiny_network

from conftest import TINY, run_cli
from dermgan.errors import UserError
from dermgan.evaluation import ablation as ablation_module
from dermgan.evaluation import fid as fid_module
from dermgan.evaluation.ablation import ABLATIONS, REAL_FLOOR, run_ablation
from dermgan.training.config import load_config

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture(scope="module")
def table(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ablation")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fid_module, "MIN_IMAGES_FOR_FID", 20)  # the 32 px phantom's test split is small
        result = run_ablation(
            phantom_32,
            out,
            overrides=[*TINY, "train.max_steps=3"],
            trials=3,
            network=tiny_network(),
            cache=out / "cache",
            workers=0,
            progress=False,
        )
    return out, result


def test_four_models_and_the_real_floor_with_intervals(table):
    out, result = table
    assert [row.name for row in result.rows] == [REAL_FLOOR, *ABLATIONS]
    for row in result.rows:
        assert row.fid is not None and row.fid >= 0 and row.fid_ci95 is not None and row.fid_ci95 > 0
        assert row.kid is not None
    # Three training steps paint no skin yet: every row has a band accuracy (0 here), ITA errors need skin.
    assert all(row.band_accuracy is not None for row in result.rows[1:])
    assert result.rows[0].band_accuracy is None
    trained = [load_config(out / "runs" / name / "config.yaml") for name in ABLATIONS]
    assert [c.model.upsample for c in trained] == ["resize_conv", "transposed", "resize_conv", "resize_conv"]
    assert [c.loss.lambda_roi > 0 for c in trained] == [True, True, False, True]
    assert [c.loss.lambda_fm > 0 for c in trained] == [True, True, True, False]
    assert len(list((out / "synthetic" / "dermgan" / "images").glob("*.png"))) == result.n_test


def test_outputs_say_these_are_phantom_numbers_beside_the_papers(table):
    out, result = table
    markdown = (out / "ablation.md").read_text()
    assert result.phantom and "phantom numbers" in markdown
    assert "122.4 +/- 3.4" in markdown and "174.0 +/- 4.7" in markdown
    ours = result.rows[1]
    assert f"{ours.fid:.1f} +/- {ours.fid_ci95:.1f}" in markdown
    assert len((out / "ablation.csv").read_text().splitlines()) == 1 + len(result.rows)
    assert (out / "ablation.png").stat().st_size > 0


def test_trained_rows_are_reused_and_runs_are_checked(table, phantom_32: Path, monkeypatch):
    out, first = table

    def no_training(*args, **kwargs):
        raise AssertionError("a finished row was trained again")

    monkeypatch.setattr(ablation_module, "train", no_training)
    again = run_ablation(
        phantom_32, out, trials=3, network=tiny_network(), cache=out / "cache", workers=0, progress=False
    )
    assert [row.kid for row in again.rows] == [row.kid for row in first.rows]
    with pytest.raises(UserError, match="the rows are"):
        run_ablation(phantom_32, out, runs={"dermgan-v2": str(out)}, network=tiny_network(), progress=False)


@pytest.mark.parametrize("name", [name for name in ABLATIONS if name != "dermgan"])
def test_the_ablation_configs_are_the_rows_of_the_runner(name: str):
    paper = load_config(CONFIGS / "paper.yaml", list(ABLATIONS[name]))
    assert load_config(CONFIGS / "ablations" / f"{name}.yaml") == paper


def test_the_command_takes_trained_runs_in_row_order_and_prints_json_last(
    table, phantom_32, monkeypatch, capsys
):
    out, _ = table
    monkeypatch.setattr(fid_module, "inception_network", tiny_network)
    monkeypatch.setattr(fid_module, "MIN_IMAGES_FOR_FID", 20)
    runs = ",".join(str(out / "runs" / name) for name in ABLATIONS)
    again = out.parent / "again"
    options = ["--out", again, "--cache", out / "cache", "--workers", 0, "--trials", 3, "--no-progress"]
    command = ["eval", "ablation", "--data", phantom_32]
    code, stdout, _ = run_cli(monkeypatch, capsys, *command, "--runs", runs, *options, "--json")
    assert code == 0 and "These are phantom numbers" in stdout
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result == json.loads((again / "ablation.json").read_text())
    assert [row["run"] for row in result["rows"][1:]] == runs.split(",")
    assert not (again / "runs").exists()
    mixed = ["--runs", f"{runs},x=y"]
    code, _, err = run_cli(monkeypatch, capsys, *command, *mixed, *options)
    assert code == 1 and "give name=RUN_DIR pairs" in err and "Traceback" not in err


def test_rows_left_out_say_not_run(table, phantom_32: Path):
    out, first = table
    runs = {"dermgan": str(out / "runs" / "dermgan")}
    options = dict(network=tiny_network(), cache=out / "cache", workers=0, progress=False, trials=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fid_module, "MIN_IMAGES_FOR_FID", 20)
        result = run_ablation(
            phantom_32, out.parent / "one-row", runs=runs, rows=["dermgan"], floor_images=30, **options
        )
    assert [row.evaluated for row in result.rows] == [True, True, False, False, False]
    assert result.rows[1].kid == first.rows[1].kid and result.rows[2].fid is None
    assert result.n_floor_train == 30 < first.n_floor_train and result.rows[0].kid != first.rows[0].kid
    markdown = (out.parent / "one-row" / "ablation.md").read_text()
    assert markdown.count("| not run | not run | not run | not run |") == 3
