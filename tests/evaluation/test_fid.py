"""evaluate(): the paper's trial interval, per-cell results with the KID-only rule, fid.json, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fid_helpers import tiny_network, write_images

from conftest import run_cli
from dermgan.evaluation import fid as fid_module
from dermgan.evaluation.fid import (
    SAME_IMAGES_EVERY_TRIAL,
    TOO_FEW_FOR_FID,
    TOO_FEW_FOR_KID,
    evaluate,
    fid_with_interval,
)
from dermgan.evaluation.frechet import frechet_distance_of_features
from dermgan.evaluation.image_sets import ImageSet


def cell_rows(counts: dict[tuple[str, str], int]) -> list[dict[str, str]]:
    return [
        {"condition": condition, "skin_type": skin_type}
        for (condition, skin_type), n in counts.items()
        for _ in range(n)
    ]


REAL_CELLS = {("melanoma", "1"): 210, ("acne", "5"): 30, ("eczema", "3"): 5}
FAKE_CELLS = {("melanoma", "1"): 205, ("acne", "5"): 20, ("psoriasis", "2"): 3}


@pytest.fixture(scope="module")
def image_sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImageSet, ImageSet]:
    """245 real (brighter) and 228 fake (darker) images labelled with REAL_CELLS and FAKE_CELLS."""
    root = tmp_path_factory.mktemp("sets")
    real_paths = write_images(root / "real", sum(REAL_CELLS.values()), seed=10, brightness=150)
    fake_paths = write_images(root / "fake", sum(FAKE_CELLS.values()), seed=11, brightness=110)
    return ImageSet("real", real_paths, cell_rows(REAL_CELLS)), ImageSet(
        "fake", fake_paths, cell_rows(FAKE_CELLS)
    )


def run_evaluate(real, fake, cache: Path, **options):
    return evaluate(
        real, fake, network=tiny_network(), cache=cache, workers=0, batch_size=64, progress=False, **options
    )


def test_per_cell_counts_and_the_kid_only_rule(image_sets, tmp_path_factory):
    real, fake = image_sets
    result = run_evaluate(
        real, fake, tmp_path_factory.getbasetemp() / "cache", trials=3, by=["condition", "skin_type"]
    )
    assert (result.n_real, result.n_fake) == (245, 228)
    assert (
        result.fid > 0 and result.fid_ci95 > 0 and len(result.fid_trials) == 3 and result.sample_size == 228
    )
    assert result.kid > 0 and 0 <= result.precision <= 1 and 0 <= result.recall <= 1

    cells = {(c.cell["condition"], c.cell["skin_type"]): c for c in result.cells}
    assert [(key, c.n_real, c.n_fake) for key, c in cells.items()] == [
        (("acne", "5"), 30, 20),
        (("eczema", "3"), 5, 0),
        (("melanoma", "1"), 210, 205),
        (("psoriasis", "2"), 0, 3),
    ]
    full = cells[("melanoma", "1")]
    assert full.fid is not None and full.precision is not None and full.note == ""
    kid_only = cells[("acne", "5")]
    assert kid_only.fid is None and kid_only.kid is not None and kid_only.kid_subset_size == 10  # halves
    assert kid_only.note == TOO_FEW_FOR_FID and "too few images for FID: KID only" in kid_only.note
    assert cells[("eczema", "3")].kid is None and cells[("eczema", "3")].note == TOO_FEW_FOR_KID


def test_identical_sets_are_at_distance_zero_with_full_precision_and_recall(image_sets, tmp_path_factory):
    real, _ = image_sets
    result = run_evaluate(real, real, tmp_path_factory.getbasetemp() / "cache", trials=5)
    assert abs(result.fid) < 1e-6 and result.fid_ci95 == 0 and result.note == SAME_IMAGES_EVERY_TRIAL
    assert (result.precision, result.recall) == (1.0, 1.0)


def test_the_interval_shrinks_with_more_images_and_centres_near_the_full_set_value():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(4000, 8)), rng.normal(0.5, 1.0, size=(4000, 8))
    full = frechet_distance_of_features(real, fake)
    _, small_half_width, _ = fid_with_interval(real, fake, trials=20, sample_size=100)
    large_mean, large_half_width, values = fid_with_interval(real, fake, trials=20, sample_size=1000)
    assert len(values) == 20 and large_half_width == pytest.approx(1.96 * np.std(values))
    assert large_half_width < small_half_width / 2
    assert abs(large_mean - full) < large_half_width
    assert fid_with_interval(real, fake, trials=20, sample_size=1000, seed=0)[2] == values


def test_writes_its_json_under_out(image_sets, tmp_path_factory, tmp_path):
    real, fake = image_sets
    run_evaluate(
        real, fake, tmp_path_factory.getbasetemp() / "cache", trials=2, out=tmp_path, result_name="kid"
    )
    written = json.loads((tmp_path / "kid.json").read_text())
    for key in ["fid", "fid_ci95", "kid", "kid_std", "precision", "recall", "n_real", "n_fake"]:
        assert key in written
    assert written["feature_network"] == "tiny-test" and written["n_features_computed"] == 0


@pytest.fixture
def folders(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Two folders of 20 images each, evaluated with the tiny network in place of the Inception."""
    monkeypatch.setattr(fid_module, "inception_network", tiny_network)
    write_images(tmp_path / "real", 20, seed=20, brightness=150)
    write_images(tmp_path / "fake", 20, seed=21, brightness=110)
    return tmp_path / "real", tmp_path / "fake"


@pytest.mark.parametrize("command", ["fid", "kid"])
def test_the_command_prints_a_table_and_the_json_last(monkeypatch, capsys, folders, tmp_path, command):
    real, fake = folders
    options = ["--cache", tmp_path / "cache", "--out", tmp_path / "out", "--workers", "0", "--no-progress"]
    code, out, _ = run_cli(monkeypatch, capsys, "eval", command, real, fake, *options, "--json")
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["n_real"], result["n_fake"], result["fid"]) == (20, 20, None)
    assert result["kid"] is not None and result["note"] == TOO_FEW_FOR_FID
    assert "KID only" in out and json.loads((tmp_path / "out" / f"{command}.json").read_text()) == result


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--by", "condition"], "needs a manifest"),
        (["--by", ","], "names no column"),
        (["--trials", "0"], "at least 1"),
    ],
)
def test_bad_options_are_one_message(monkeypatch, capsys, folders, tmp_path, extra, needle):
    code, _, err = run_cli(monkeypatch, capsys, "eval", "fid", *folders, "--cache", tmp_path / "c", *extra)
    assert code == 1 and needle in err and "Traceback" not in err


def test_a_missing_folder_is_one_message(monkeypatch, capsys, folders, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "eval", "fid", tmp_path / "nowhere", folders[1], "--json")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "nowhere is neither an image folder nor a manifest" in " ".join(
        err.split()
    )
