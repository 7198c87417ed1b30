"""Baseline vs augmented on a small phantom, through the commands users type: train, eval, compare."""

from __future__ import annotations

import csv
import json

import classify_world
from PIL import Image

from conftest import run_cli

world = classify_world.world


def _sets(world: classify_world.World, *more: str) -> list[str]:
    return [argument for override in world.overrides(*more) for argument in ("--set", override)]


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_baseline_and_augmented_runs_are_compared_on_the_same_test_images(
    world, tmp_path, monkeypatch, capsys
):
    with open(world.synthetic, encoding="utf-8") as handle:
        made = [row["condition"] for row in csv.DictReader(handle)]
    rare = made[0]
    common = ["--data", world.manifest, "--splits", world.prepared, "--no-progress", "--json"]
    common += _sets(world, f"data.max_train_images={{{rare}: 2}}")
    code, out, err = run_cli(monkeypatch, capsys, "classify", "train", "--out", tmp_path / "base", *common)
    assert code == 0, err
    baseline = _last_json(out)
    assert baseline["n_synthetic"] == 0 and baseline["train_counts"][rare] == 2
    assert "validation top-1 after each epoch: 1: " in out and "kept epoch 1 (validation top-1" in out
    assert [point["epoch"] for point in baseline["curve"]] == [1] and baseline["best"]["epoch"] == 1
    extra = ["--extra", world.synthetic, "--generator", world.generator]
    code, out, err = run_cli(
        monkeypatch, capsys, "classify", "train", "--out", tmp_path / "aug", *common, *extra
    )
    assert code == 0, err
    augmented = _last_json(out)
    assert augmented["n_synthetic"] == len(made) == 12
    assert augmented["train_counts"][rare] == 2 + 12

    code, out, err = run_cli(
        monkeypatch, capsys, "classify", "eval", "--model", tmp_path / "base", "--data", world.manifest,
        "--resamples", "200", "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    scored = _last_json(out)
    test_cases = {case for case, split in _splits(world).items() if split == "test"}
    assert scored["n_images"] == _photos_of(world, test_cases) > 0
    assert sum(map(sum, scored["confusion"])) == scored["n_images"]
    assert (tmp_path / "base" / "eval.json").exists()

    code, out, err = run_cli(
        monkeypatch, capsys, "classify", "compare", "--baseline", tmp_path / "base",
        "--augmented", tmp_path / "aug", "--data", world.manifest, "--out", tmp_path / "cmp",
        "--resamples", "200", "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = _last_json(out)
    assert result == json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert result["n_images"] == scored["n_images"]
    assert result["top1"]["baseline"]["value"] == scored["top1"]["value"]
    assert [c["condition"] for c in result["per_class"]] == baseline["classes"]
    for change in [result["top1"], *(c["f1"] for c in result["per_class"])]:
        difference = change["augmented"]["value"] - change["baseline"]["value"]
        assert abs(change["difference"]["value"] - difference) < 1e-9
    assert sum(s["n"] for s in result["per_skin_type"]) == result["n_images"]
    right_only = result["mcnemar"]["only_first_right"] + result["mcnemar"]["only_second_right"]
    assert right_only <= result["n_images"]
    assert "| condition | support | F1 baseline |" in (tmp_path / "cmp" / "compare.md").read_text()
    with Image.open(tmp_path / "cmp" / "compare.png") as plot:
        assert plot.width > 300
    assert "McNemar" in out


def _splits(world: classify_world.World) -> dict[str, str]:
    with open(world.prepared / "splits.csv", encoding="utf-8") as handle:
        return {row["case_id"]: row["split"] for row in csv.DictReader(handle)}


def _photos_of(world: classify_world.World, cases: set[str]) -> int:
    with open(world.manifest, encoding="utf-8") as handle:
        return sum(row["case_id"] in cases for row in csv.DictReader(handle))
