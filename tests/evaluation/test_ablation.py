"""The Table 1 runner on tiny models: trains the four rows, evaluates them beside the real floor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fid_helpers import tiny_network

from conftest import TINY, run_cli
from dermgan.errors import UserError
from dermgan.evaluation import ablation as ablation_module
from dermgan.evaluation import fid as fid_module
from dermgan.evaluation.ablation import ABLATIONS, REAL_FLOOR, run_ablation
from dermgan.evaluation.seed_interval import t_interval
from dermgan.training.config import load_config


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
    paper = load_config("paper", list(ABLATIONS[name]))
    assert load_config(f"ablations/{name}") == paper


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


def test_the_interval_over_seeds_is_a_student_t_interval():
    # mean 2, sample std 1, t(0.975, 2) = 4.3027: half width 4.3027 / sqrt(3); 1.96 or ddof=0 would differ.
    assert t_interval([1.0, 2.0, 3.0]) == pytest.approx((2.0, 2.484138), abs=1e-6)
    # mean 12, sample std sqrt(14/3), t(0.975, 3) = 3.1824: half width 3.1824 * 2.1602 / 2.
    assert t_interval([10.0, 12.0, 11.0, 15.0]) == pytest.approx((12.0, 3.437435), abs=1e-6)
    assert t_interval([5.0]) == (5.0, None)


@pytest.fixture(scope="module")
def seeded(table, phantom_32: Path):
    """Two rows with seeds 0 and 1; seed 0 (the config's) is the one-seed table's runs, copied."""
    first_out, _ = table
    out = first_out.parent / "seeded"
    for name in ("dermgan", "no-roi-loss"):
        shutil.copytree(first_out / "runs" / name, out / "runs" / name)
    options = dict(trials=3, network=tiny_network(), cache=first_out / "cache", workers=0, progress=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fid_module, "MIN_IMAGES_FOR_FID", 20)
        result = run_ablation(
            phantom_32,
            out,
            overrides=[*TINY, "train.max_steps=3"],
            rows=["dermgan", "no-roi-loss"],
            seeds=[0, 1],
            **options,
        )
    return out, result, options


def test_seeds_train_one_run_per_row_and_seed_and_report_the_interval_over_seeds(seeded, table):
    out, result, _ = seeded
    runs = sorted(path.name for path in (out / "runs").iterdir())
    assert runs == ["dermgan", "dermgan-seed1", "no-roi-loss", "no-roi-loss-seed1"]
    assert [load_config(out / "runs" / name / "config.yaml").train.seed for name in runs] == [0, 1, 0, 1]
    assert load_config(out / "runs" / "no-roi-loss-seed1" / "config.yaml").loss.lambda_roi == 0
    assert result.seeds == [0, 1]
    one_seed = {row.name: row for row in table[1].rows}
    for row in (result.rows[1], result.rows[3]):
        assert [one.seed for one in row.per_seed] == [0, 1]
        fids = [one.fid for one in row.per_seed]
        assert fids[0] != fids[1]  # another seed, another model
        assert (row.fid_seed_mean, row.fid_seed_ci95) == pytest.approx(t_interval(fids))
        assert row.kid_seed_mean == pytest.approx(sum(one.kid for one in row.per_seed) / 2)
        # The old keys stay: the first seed's model, which is the one-seed table's run.
        assert row.fid == fids[0] and row.run == row.per_seed[0].run == str(out / "runs" / row.name)
        assert row.kid == one_seed[row.name].kid
    assert [row.evaluated for row in result.rows] == [True, True, False, True, False]
    markdown = (out / "ablation.md").read_text()
    assert "FID over 2 seeds" in markdown and "Student t" in markdown
    ours = result.rows[1]
    assert f"{ours.fid_seed_mean:.1f} +/- {ours.fid_seed_ci95:.1f}" in markdown
    stored = json.loads((out / "ablation.json").read_text())
    assert {"fid", "fid_ci95", "kid", "per_seed", "fid_seed_ci95"} <= set(stored["rows"][1])


def test_seeded_runs_are_reused_and_given_runs_must_match_their_seed(seeded, phantom_32, monkeypatch):
    out, first, options = seeded

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(ablation_module, "train", no_training)
    monkeypatch.setattr(fid_module, "MIN_IMAGES_FOR_FID", 20)
    again = run_ablation(phantom_32, out, rows=["dermgan", "no-roi-loss"], seeds=[0, 1], **options)
    assert [row.per_seed for row in again.rows] == [row.per_seed for row in first.rows]
    mislabelled = {"dermgan-seed1": str(out / "runs" / "dermgan")}
    with pytest.raises(UserError, match=r"trained with train.seed=0, not 1"):
        run_ablation(phantom_32, out.parent / "x", runs=mislabelled, seeds=[0, 1], **options)
    with pytest.raises(UserError, match="different seeds"):
        run_ablation(phantom_32, out.parent / "x", seeds=[1, 1], **options)
    with pytest.raises(UserError, match="one per seed: dermgan, dermgan-seed2"):
        run_ablation(phantom_32, out.parent / "x", runs={"dermgan-seed1": str(out)}, seeds=[0, 2], **options)


def test_the_command_refuses_seeds_that_are_not_numbers(phantom_32, monkeypatch, capsys, tmp_path):
    command = ["eval", "ablation", "--data", phantom_32, "--out", tmp_path, "--seeds", "0,one"]
    code, _, err = run_cli(monkeypatch, capsys, *command)
    assert code == 1 and "--seeds '0,one': give whole numbers" in err and "Traceback" not in err


def test_the_report_shows_the_interval_over_seeds_and_the_commands_that_made_it(seeded, tmp_path):
    from dataclasses import asdict

    from dermgan.demo.pipeline import demo_settings
    from dermgan.report.html import write_report

    out, result, _ = seeded
    (tmp_path / "ablation").mkdir()
    shutil.copy(out / "ablation.json", tmp_path / "ablation" / "ablation.json")
    settings = {**asdict(demo_settings(quick=False, ablations=True)), "quick": False}
    (tmp_path / "demo.json").write_text(json.dumps(settings))
    html = write_report(tmp_path, tmp_path / "report.html").read_text()
    assert "FID over 2 seeds" in html and "Student t" in html
    mean = result.rows[1].fid_seed_mean
    assert f'data-json="ablation/ablation.json#/rows/1/fid_seed_mean" data-format=".1f">{mean:.1f}<' in html
    assert "--seeds 0,1" in html and "ablation-runs/dermgan-seed1 " in html
