"""Per-map diversity: the pairwise measure, the real yardstick and ratio, precision beside it, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fid_helpers import tiny_network

from conftest import run_cli
from dermgan.errors import UserError
from dermgan.evaluation import diversity as diversity_module
from dermgan.evaluation.diversity import IDENTICAL_SAMPLES, mean_pairwise_distance, measure_diversity
from dermgan.evaluation.image_sets import ImageSet
from dermgan.generation.generate import generate, make_plan
from dermgan.generation.synthesize import Synthesizer

DIM = 64


def _cloud(rng: np.random.Generator, centre: np.ndarray, spread: float, n: int) -> np.ndarray:
    return centre + rng.normal(0, spread, size=(n, DIM))


def test_mean_pairwise_distance_is_zero_for_identical_rows_and_recovers_a_known_spread():
    assert mean_pairwise_distance(np.ones((5, 8))) == 0.0
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert mean_pairwise_distance(np.array([[0.0], [1.0], [3.0]])) == pytest.approx(2.0)
    gaussian = np.random.default_rng(0).normal(0, 2.0, size=(300, 512))
    assert mean_pairwise_distance(gaussian) == pytest.approx(2.0 * np.sqrt(2 * 512), rel=0.01)


def _real(rng: np.random.Generator, spreads: dict[tuple[str, str], float], n: int = 60):
    features, rows = [], []
    for (condition, skin_type), spread in spreads.items():
        features.append(_cloud(rng, np.zeros(DIM), spread, n))
        rows += [{"condition": condition, "skin_type": skin_type}] * n
    return np.concatenate(features), rows


def _fake(rng: np.random.Generator, maps: list[tuple[str, str, float, int]], offset: float = 0.0):
    """One cloud per map (condition, skin type, spread, samples), its centre near the real data's."""
    features, rows = [], []
    for number, (condition, skin_type, spread, samples) in enumerate(maps):
        centre = rng.normal(0, 0.5, size=DIM) + offset
        features.append(_cloud(rng, centre, spread, samples))
        rows += [{"condition": condition, "skin_type": skin_type, "map_id": f"m{number}"}] * samples
    return np.concatenate(features), rows


def test_the_ratio_recovers_known_spreads_per_cell_per_condition_and_overall():
    rng = np.random.default_rng(1)
    real = _real(rng, {("melanoma", "1"): 2.0, ("melanoma", "6"): 4.0, ("acne", "1"): 1.0})
    maps = [("melanoma", "1", 1.0, 8)] * 4 + [("melanoma", "6", 1.0, 8)] * 2 + [("acne", "1", 0.5, 8)] * 2
    maps += [("acne", "3", 6.0, 8), ("acne", "1", 1.0, 1)]
    tables = measure_diversity(*real, *_fake(rng, maps))
    ratios = {(row.condition, row.skin_type): row.ratio for row in tables.cells}
    assert ratios[("melanoma", "1")] == pytest.approx(0.5, rel=0.08)
    assert ratios[("melanoma", "6")] == pytest.approx(0.25, rel=0.08)
    assert ratios[("acne", "1")] == pytest.approx(0.5, rel=0.08)
    assert ratios[("acne", "3")] is None, "no real crop of acne on type 3"
    melanoma = next(row for row in tables.conditions if row.condition == "melanoma")
    assert melanoma.real == pytest.approx((4 * 2 + 2 * 4) / 6 * np.sqrt(2 * DIM), rel=0.05)
    assert melanoma.ratio == pytest.approx(6 / 16, rel=0.08)
    overall = tables.overall
    assert (overall.n_maps, overall.n_maps_compared, tables.n_single_sample_maps) == (9, 8, 1)
    assert overall.n_samples == 72 and "1 maps are of cells with fewer than 2 real crops" in tables.note
    assert overall.ratio == pytest.approx((6 * 1.0 + 2 * 0.5) / (4 * 2 + 2 * 4 + 2 * 1), rel=0.08)
    assert overall.precision == pytest.approx(64 / 72), "only the wide acne/3 map's 8 lie off the real data"


def test_identical_samples_have_zero_diversity_and_nonsense_spread_shows_in_precision():
    rng = np.random.default_rng(2)
    real = _real(rng, {("melanoma", "1"): 2.0})
    copies = np.repeat(rng.normal(0, 1, size=(3, DIM)), 4, axis=0)
    rows = [{"condition": "melanoma", "skin_type": "1", "map_id": f"m{i // 4}"} for i in range(12)]
    identical = measure_diversity(*real, copies, rows)
    assert identical.overall.synthetic == 0.0 and identical.overall.ratio == 0.0
    assert identical.note == IDENTICAL_SAMPLES
    nonsense = measure_diversity(*real, *_fake(rng, [("melanoma", "1", 6.0, 8)] * 3, offset=40.0))
    assert nonsense.overall.ratio > 2 and nonsense.overall.precision == 0.0


def test_a_set_without_several_samples_per_map_is_refused():
    rng = np.random.default_rng(3)
    real = _real(rng, {("melanoma", "1"): 2.0})
    rows = [{"condition": "melanoma", "skin_type": "1", "map_id": f"m{i}"} for i in range(4)]
    with pytest.raises(UserError, match=r"one sample.*--samples-per-map 2"):
        measure_diversity(*real, rng.normal(size=(4, DIM)), rows)
    no_column = ImageSet("plain", [Path("a.png")], [{"condition": "melanoma", "skin_type": "1"}])
    real_set = ImageSet("real", [Path("b.png")], [{"condition": "melanoma", "skin_type": "1"}])
    with pytest.raises(UserError, match=r"no map_id column.*--samples-per-map 2"):
        diversity_module.evaluate_diversity(real_set, no_column, network=tiny_network())


def test_the_command_writes_diversity_json_and_refuses_one_sample_per_map(
    monkeypatch, capsys, phantom_32: Path, tiny_run: Path, tmp_path: Path
):
    monkeypatch.setattr(diversity_module, "inception_network", tiny_network)
    synthesizer = Synthesizer(tiny_run)
    plan = make_plan(synthesizer, n=8, conditions=["melanoma", "acne"], skin_types="2")
    for k in (1, 4):
        generate(
            tiny_run, tmp_path / f"k{k}", plan, samples_per_map=k, progress=False, synthesizer=synthesizer
        )
    options = ["--out", tmp_path / "out", "--cache", tmp_path / "c", "--workers", 0, "--no-progress"]
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "eval", "diversity", phantom_32, tmp_path / "k4", *options, "--json"
    )
    assert code == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result == json.loads((tmp_path / "out" / "diversity.json").read_text())
    assert result["overall"]["n_maps"] == 2 and result["overall"]["n_samples"] == 8
    assert result["overall"]["synthetic"] == 0.0 and IDENTICAL_SAMPLES in " ".join(stdout.split())
    assert {row["condition"] for row in result["conditions"]} == {"melanoma", "acne"}
    code, _, err = run_cli(monkeypatch, capsys, "eval", "diversity", phantom_32, tmp_path / "k1", *options)
    assert code == 1 and "--samples-per-map 2" in err and "Traceback" not in err
