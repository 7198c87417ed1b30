"""Bulk generation: plans, provenance, batch-size independence, resume, gap filling, samples per map."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from conftest import TINY, run_cli
from dermgan.cli import main
from dermgan.data.importers import import_dataset
from dermgan.data.manifest import read_manifest, write_manifest
from dermgan.data.show import show_prepared
from dermgan.data.validate import validate_manifest
from dermgan.errors import UserError
from dermgan.generation.generate import generate, make_plan
from dermgan.generation.plan import even_plan, gap_plan, map_requests, per_condition_plan
from dermgan.generation.synthesize import Synthesizer
from dermgan.training.trainer import train

PROVENANCE = {"source", "generator_sha256", "seed", "map_path", "map_source_image", "license", "split"}


@pytest.fixture(scope="module")
def synthesizer(tiny_run: Path) -> Synthesizer:
    return Synthesizer(tiny_run)


@pytest.fixture(scope="module")
def run_64(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dropout exists from 64 px up: a tiny 64 px generator shows the stochastic switch at work."""
    run = tmp_path_factory.mktemp("run64") / "run"
    train(phantom_32, run, overrides=(*TINY, "data.size=64", "train.max_steps=2"), progress=False)
    return run


def _bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((folder / "images").glob("*.png"))}


def test_plans_spread_evenly_and_fill_gaps_to_the_target():
    plan = even_plan(24, list("abcdefgh"), list("123456"))
    per_condition, per_type = Counter(), Counter()
    for (condition, skin_type), count in plan.items():
        per_condition[condition] += count
        per_type[skin_type] += count
    assert set(per_condition.values()) == {3} and set(per_type.values()) == {4}
    assert sum(even_plan(7, ["a", "b"], ["1", "6"]).values()) == 7
    assert per_condition_plan(5, ["a", "b"], ["1", "2"]) == {
        ("a", "1"): 3,
        ("a", "2"): 2,
        ("b", "1"): 2,
        ("b", "2"): 3,
    }
    counts = {("a", "1"): 10, ("a", "2"): 3, ("b", "1"): 0}
    assert gap_plan(counts, 5, ["a", "b"], ["1", "2"]) == {
        ("a", "1"): 0,
        ("a", "2"): 2,
        ("b", "1"): 5,
        ("b", "2"): 5,
    }
    plan = {("a", "1"): 2, ("b", "1"): 0, ("b", "2"): 1}
    assert map_requests(plan, 1) == [(("a", "1"), 1), (("a", "1"), 1), (("b", "2"), 1)]
    assert map_requests({("a", "1"): 5, ("b", "2"): 1}, 2) == [
        (("a", "1"), 2),
        (("a", "1"), 2),
        (("a", "1"), 1),
        (("b", "2"), 1),
    ]


def test_plan_options_are_checked(synthesizer: Synthesizer, tmp_path: Path):
    with pytest.raises(UserError, match="exactly one of"):
        make_plan(synthesizer, n=4, per_condition=2)
    with pytest.raises(UserError, match="exactly one of"):
        make_plan(synthesizer)
    with pytest.raises(UserError, match="not in this codebook"):
        make_plan(synthesizer, n=4, conditions=["lupus"])
    with pytest.raises(UserError, match="1-6"):
        make_plan(synthesizer, n=4, skin_types="0,7")
    with pytest.raises(UserError, match="--target"):
        make_plan(synthesizer, fill_gaps=tmp_path / "m.csv")


def test_with_several_samples_per_map_a_plan_is_spread_in_whole_maps(synthesizer):
    """12 images in maps of 4 over 3 conditions x 6 types: 3 cells of 4, not 12 cells of one sample."""
    plan = make_plan(synthesizer, n=12, samples_per_map=4)
    assert sorted(count for count in plan.values() if count) == [4, 4, 4]
    per_condition = make_plan(synthesizer, per_condition=5, samples_per_map=2)
    assert set(per_condition.values()) <= {0, 2} and sum(per_condition.values()) == 6 * len(
        synthesizer.codebook.conditions
    )
    assert make_plan(synthesizer, n=12) == make_plan(synthesizer, n=12, samples_per_map=1)


def test_output_imports_and_validates_as_a_dataset_with_provenance(
    synthesizer, tiny_run: Path, tmp_path: Path
):
    plan = make_plan(synthesizer, n=10, conditions=["melanoma", "acne"], skin_types="1,6")
    summary = generate(tiny_run, tmp_path / "syn", plan, seed=3, progress=False, synthesizer=synthesizer)
    assert summary.n_images == summary.n_made_now == 10
    report, _ = validate_manifest(tmp_path / "syn" / "manifest.csv")
    assert report.n_usable == 10 and not report.problems
    rows = read_manifest(tmp_path / "syn" / "manifest.csv").rows
    assert set(rows[0]) >= PROVENANCE
    assert {row["source"] for row in rows} == {"synthetic"} and {row["split"] for row in rows} == {"train"}
    assert {row["generator_sha256"] for row in rows} == {synthesizer.sha256}
    assert all(row["map_source_image"] and (tmp_path / "syn" / row["map_path"]).exists() for row in rows)
    assert {row["license"] for row in rows} == {"CC0-1.0 (synthetic phantom)"}
    assert Counter((r["condition"], r["skin_type"]) for r in rows) == Counter(
        {("melanoma", "1"): 3, ("melanoma", "6"): 2, ("acne", "1"): 2, ("acne", "6"): 3}
    )
    imported = import_dataset("manifest", tmp_path / "syn" / "manifest.csv", tmp_path / "imported")
    assert imported.n_images == 10 and imported.n_missing_files == 0
    assert json.loads((tmp_path / "syn" / "generate.json").read_text())["n_images"] == 10
    with Image.open(show_prepared(tmp_path / "syn", tmp_path / "sheet.png", n=4)) as sheet:
        assert sheet.size[0] > 3 * 32


def test_same_seed_same_images_whatever_the_batch_size(synthesizer, tiny_run: Path, tmp_path: Path):
    plan = make_plan(synthesizer, n=9)
    for batch_size in (1, 4, 9):
        generate(
            tiny_run,
            tmp_path / f"b{batch_size}",
            plan,
            seed=1,
            batch_size=batch_size,
            progress=False,
            synthesizer=synthesizer,
        )
    assert _bytes(tmp_path / "b1") == _bytes(tmp_path / "b4") == _bytes(tmp_path / "b9")
    generate(tiny_run, tmp_path / "other", plan, seed=2, progress=False, synthesizer=synthesizer)
    assert _bytes(tmp_path / "other") != _bytes(tmp_path / "b1")


def test_stochastic_images_are_seeded_per_image(run_64: Path, tmp_path: Path):
    run = run_64
    synthesizer = Synthesizer(run)
    plan = make_plan(synthesizer, n=4)
    for name, batch_size in (("a", 1), ("b", 3)):
        generate(run, tmp_path / name, plan, seed=1, batch_size=batch_size, stochastic=True, progress=False)
    generate(run, tmp_path / "seed2", plan, seed=2, stochastic=True, progress=False)
    generate(run, tmp_path / "plain", plan, seed=1, progress=False)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert _bytes(tmp_path / "a") != _bytes(tmp_path / "plain")
    rows = read_manifest(tmp_path / "a" / "manifest.csv").rows
    assert {row["stochastic"] for row in rows} == {"true"}


def _images_by_map(folder: Path) -> dict[str, list[bytes]]:
    images: dict[str, list[bytes]] = {}
    for row in read_manifest(folder / "manifest.csv").rows:
        images.setdefault(row["map_id"], []).append((folder / row["image"]).read_bytes())
    return images


def test_samples_of_one_map_share_its_map_id_and_match_without_randomness(
    synthesizer, tiny_run: Path, tmp_path: Path
):
    """The 32 px generator has no dropout: K samples of a map are one image; the plan still counts images."""
    plan = make_plan(synthesizer, n=7, conditions=["melanoma"], skin_types="1,6")
    summary = generate(
        tiny_run, tmp_path / "k3", plan, seed=2, samples_per_map=3, progress=False, synthesizer=synthesizer
    )
    assert (summary.n_images, summary.n_maps, summary.samples_per_map) == (7, 3, 3)
    rows = read_manifest(tmp_path / "k3" / "manifest.csv").rows
    assert set(rows[0]) >= PROVENANCE | {"map_id", "index"}
    assert Counter(row["skin_type"] for row in rows) == {"1": 4, "6": 3}
    by_map = _images_by_map(tmp_path / "k3")
    assert [len(images) for images in by_map.values()] == [3, 1, 3], "a cell's last map has the remainder"
    for map_id, images in by_map.items():
        same_map = [row for row in rows if row["map_id"] == map_id]
        assert len({(r["boxes"], r["skin_type"], r["map_path"]) for r in same_map}) == 1
        assert len(set(images)) == 1
    assert len({row["seed"] for row in rows}) == 1 and len({row["index"] for row in rows}) == 7
    assert len(list((tmp_path / "k3" / "maps").glob("*.png"))) == 3

    generate(tiny_run, tmp_path / "k1", plan, seed=2, progress=False, synthesizer=synthesizer)
    single = read_manifest(tmp_path / "k1" / "manifest.csv").rows
    assert len({row["map_id"] for row in single}) == 7
    assert [row["map_path"] for row in single] == [f"maps/{i:06d}.png" for i in range(7)]
    assert _bytes(tmp_path / "k1")["000000.png"] == _bytes(tmp_path / "k3")["000000.png"], "same map 0"
    with pytest.raises(UserError, match="other settings"):
        generate(
            tiny_run,
            tmp_path / "k3",
            plan,
            seed=2,
            samples_per_map=2,
            progress=False,
            synthesizer=synthesizer,
        )


def test_stochastic_samples_of_one_map_differ_whatever_the_batch_size(run_64: Path, tmp_path: Path):
    synthesizer = Synthesizer(run_64)
    plan = make_plan(synthesizer, n=6, conditions=["melanoma"], skin_types="3")
    for batch_size in (1, 4):
        generate(
            run_64,
            tmp_path / f"b{batch_size}",
            plan,
            seed=5,
            batch_size=batch_size,
            stochastic=True,
            samples_per_map=3,
            progress=False,
            synthesizer=synthesizer,
        )
    assert _bytes(tmp_path / "b1") == _bytes(tmp_path / "b4")
    by_map = _images_by_map(tmp_path / "b1")
    assert len(by_map) == 2 and all(len(set(images)) == 3 for images in by_map.values())


def test_samples_per_map_below_one_is_refused(monkeypatch, capsys, tiny_run: Path, tmp_path: Path):
    code, _, err = run_cli(
        monkeypatch, capsys, "generate", "--model", tiny_run, "--out", tmp_path / "o", "--n", 2,
        "--samples-per-map", 0, "--no-progress",
    )  # fmt: skip
    assert code == 1 and "--samples-per-map must be at least 1, not 0" in err


def test_an_interrupted_run_resumes_without_duplicates_or_gaps(
    synthesizer, tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    plan = make_plan(synthesizer, n=12)
    generate(
        tiny_run, tmp_path / "whole", plan, seed=4, batch_size=5, progress=False, synthesizer=synthesizer
    )

    real_render, calls = Synthesizer.render, []

    def render_then_die(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(Synthesizer, "render", render_then_die)
    with pytest.raises(KeyboardInterrupt):
        generate(
            tiny_run, tmp_path / "cut", plan, seed=4, batch_size=5, progress=False, synthesizer=synthesizer
        )
    assert len(_bytes(tmp_path / "cut")) == 5 and not (tmp_path / "cut" / "manifest.csv").exists()
    monkeypatch.setattr(Synthesizer, "render", real_render)
    summary = generate(
        tiny_run, tmp_path / "cut", plan, seed=4, batch_size=5, progress=False, synthesizer=synthesizer
    )
    assert summary.n_made_now == 7
    assert _bytes(tmp_path / "cut") == _bytes(tmp_path / "whole")
    rows = read_manifest(tmp_path / "cut" / "manifest.csv").rows
    assert [row["image"] for row in rows] == [f"images/{i:06d}.png" for i in range(12)]
    with pytest.raises(UserError, match="other settings"):
        generate(tiny_run, tmp_path / "cut", plan, seed=5, progress=False, synthesizer=synthesizer)


def test_fill_gaps_prints_the_plan_then_generates_it(monkeypatch, capsys, tiny_run: Path, tmp_path: Path):
    real = [{"image": f"{i}.png", "condition": "melanoma", "skin_type": "2"} for i in range(3)]
    write_manifest(tmp_path / "real.csv", real)
    monkeypatch.setattr(
        "sys.argv",
        [
            "dermgan",
            "generate",
            "--model",
            str(tiny_run),
            "--out",
            str(tmp_path / "gaps"),
            "--fill-gaps",
            str(tmp_path / "real.csv"),
            "--target",
            "4",
            "--conditions",
            "melanoma",
            "--skin-types",
            "1,2",
            "--no-progress",
            "--json",
        ],
    )
    with pytest.raises(SystemExit) as finished:
        main()
    assert finished.value.code in (0, None)
    out = capsys.readouterr().out
    assert "images to generate" in out and out.index("images to generate") < out.index("synthetic images in")
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["n_images"] == 5
    assert {(c["condition"], c["skin_type"], c["count"]) for c in summary["plan"]} == {
        ("melanoma", "1", 4),
        ("melanoma", "2", 1),
    }


def test_two_ranks_under_torchrun_make_the_same_images_as_one_process(
    synthesizer, tiny_run: Path, tmp_path: Path
):
    plan = make_plan(synthesizer, n=7)
    generate(tiny_run, tmp_path / "one", plan, seed=9, progress=False, synthesizer=synthesizer)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "dermgan",
        "generate",
        "--model",
        str(tiny_run),
        "--out",
        str(tmp_path / "two"),
        "--count",
        "7",
        "--seed",
        "9",
        "--no-progress",
        "--json",
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert _bytes(tmp_path / "two") == _bytes(tmp_path / "one")
    assert (tmp_path / "two" / "manifest.csv").read_bytes() == (
        tmp_path / "one" / "manifest.csv"
    ).read_bytes()
    assert finished.stdout.count("synthetic images in") == 1
    assert json.loads(finished.stdout.strip().splitlines()[-1])["n_made_now"] == 7, "each image made once"
