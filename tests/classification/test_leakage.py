"""The leakage guard: each rule stops training and names the rows; clean data passes."""

from __future__ import annotations

import csv
from pathlib import Path

import classify_world
import pytest

from conftest import run_cli
from dermgan.classification.examples import Example
from dermgan.classification.leakage import GeneratorData, LeakageError, check_leakage, refuse_synthetic
from dermgan.classification.selection import select
from dermgan.errors import UserError

world = classify_world.world
SHA = "ab" * 32
GENERATOR = GeneratorData(Path("/gan"), SHA, Path("/gan-data"), frozenset({"case-train"}))


def real(case: str, split: str) -> Example:
    return Example(
        Path(f"/photos/{case}.jpg"), "melanoma", "3", case, split, "real", 1, Path("/photos/m.csv")
    )


def synthetic(row: int, split: str = "train", **provenance: str) -> Example:
    extra = {"generator_sha256": SHA, **provenance}
    return Example(
        Path(f"/synthetic/{row}.png"), "melanoma", "3", f"synthetic-{row}", split, "synthetic", row,
        Path("/synthetic/manifest.csv"), extra,
    )  # fmt: skip


REAL = [real("case-train", "train"), real("case-val", "val"), real("case-test", "test")]


def guard(*extra: Example, generators=(GENERATOR,)) -> None:
    check_leakage(select(REAL, list(extra), {}, 0), list(generators))


def test_clean_synthetic_images_pass():
    guard(synthetic(1, map_source_case="case-val", map_source_image="../photos/case-val.jpg"))


@pytest.mark.parametrize("split", ["val", "test"])
def test_a_synthetic_image_in_a_held_out_split_is_refused(split: str):
    with pytest.raises(
        LeakageError,
        match=rf"(?s)validation or test split: 1 row.*row 7 \(7.png\): split '{split}'.*fix: set their split",
    ):
        guard(synthetic(1), synthetic(7, split=split))


def test_a_synthetic_image_whose_map_came_from_a_test_case_is_refused():
    with pytest.raises(LeakageError, match=r"(?s)map came from a test case: 1 row.*row 2 .*case-test"):
        guard(synthetic(1, map_source_case="case-val"), synthetic(2, map_source_case="case-test"))


def test_a_map_photo_path_relative_to_the_generator_data_counts_too():
    with pytest.raises(LeakageError, match=r"(?s)map came from a test case: 1 row.*row 3"):
        guard(synthetic(3, map_source_image="../photos/case-test.jpg"))


def test_a_test_case_the_generator_was_trained_on_is_refused():
    trained_on_test = GeneratorData(
        Path("/gan"), SHA, Path("/gan-data"), frozenset({"case-train", "case-test"})
    )
    with pytest.raises(LeakageError, match=r"(?s)generator \(/gan\) was trained on: 1 row.*case 'case-test'"):
        guard(synthetic(1), generators=[trained_on_test])


def test_a_held_back_case_the_generator_was_trained_on_is_refused():
    with_reserve = [*REAL, real("case-held", "reserve")]
    saw_reserve = GeneratorData(Path("/gan"), SHA, Path("/gan-data"), frozenset({"case-train", "case-held"}))
    check_leakage(select(with_reserve, [synthetic(1)], {}, 0), [GENERATOR])
    with pytest.raises(LeakageError, match=r"(?s)held-back \(reserve\) cases.*case 'case-held'.*--hold-back"):
        check_leakage(select(with_reserve, [synthetic(1)], {}, 0), [saw_reserve])


def test_images_of_an_unknown_generator_are_refused():
    with pytest.raises(UserError, match="not given with --generator"):
        guard(synthetic(1), generators=[])


def test_evaluation_refuses_synthetic_images():
    with pytest.raises(LeakageError, match=r"(?s)synthetic images in the 'test' split: 1 row"):
        refuse_synthetic([REAL[2], synthetic(5, split="test")], "test")


def test_the_command_stops_when_the_generator_trained_on_a_test_case(world, tmp_path, monkeypatch, capsys):
    with open(world.prepared / "splits.csv", encoding="utf-8") as handle:
        splits = {row["case_id"]: row["split"] for row in csv.DictReader(handle)}
    moved = sorted(case for case, split in splits.items() if split == "train")[0]
    splits[moved] = "test"
    other_split = tmp_path / "splits.csv"
    with open(other_split, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["case_id", "split"], *splits.items()])
    arguments = [
        "classify",
        "train",
        "--data",
        world.manifest,
        "--splits",
        other_split,
        "--out",
        tmp_path / "run",
    ]
    arguments += ["--extra", world.synthetic, "--generator", world.generator, "--no-progress"]
    arguments += [a for override in world.overrides() for a in ("--set", override)]
    code, _, err = run_cli(monkeypatch, capsys, *arguments)
    assert code == 1
    assert f"case {moved!r} is in the generator's train split" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
