"""--split on the eval commands: it keeps the split of each set that has splits; plain folders stay whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fid_helpers import tiny_network, write_images

from conftest import run_cli
from dermgan.data.manifest import write_manifest
from dermgan.data.splits import write_splits
from dermgan.errors import UserError
from dermgan.evaluation import fid as fid_module
from dermgan.evaluation.fid import evaluate
from dermgan.evaluation.image_sets import load_image_set
from dermgan.evaluation.roi import load_evaluation_sets

WHOLE = {"prepared": 8, "manifest": 6, "plain": 5}
TEST = {"prepared": 3, "manifest": 2, "plain": 5}
"""Images per kind of set, whole and with --split test (a plain folder has no splits: always whole)."""


def make_set(folder: Path, kind: str, seed: int = 0) -> Path:
    """A prepared folder (splits.csv decides, over a misleading `split` column), a manifest file with a
    `split` column, or a plain image folder."""
    paths = write_images(folder / "images", WHOLE[kind], seed=seed)
    if kind == "plain":
        return folder
    n_test = TEST[kind]
    rows = [
        {
            "image": f"images/{path.name}",
            "condition": "acne",
            "case_id": f"case_{index}",
            "source": "real",
            "split": "test" if index < n_test else "train",
        }
        for index, path in enumerate(paths)
    ]
    if kind == "manifest":
        return write_manifest(folder / "cases.csv", rows)
    write_splits(folder / "splits.csv", {row["case_id"]: row["split"] for row in rows})
    for row in rows:
        row["split"] = "train" if row["split"] == "test" else "test"
    write_manifest(folder / "manifest.csv", rows)
    return folder


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("split-sets")
    return {kind: make_set(root / kind, kind, seed) for seed, kind in enumerate(WHOLE)}


PAIRS = [(real, fake) for real in WHOLE for fake in WHOLE if (real, fake) != ("plain", "plain")]


@pytest.mark.parametrize(("real", "fake"), PAIRS)
def test_the_split_is_kept_of_each_set_that_has_splits(sets, real, fake):
    kept = load_evaluation_sets([sets[real], sets[fake]], "test")
    assert [len(image_set) for image_set in kept] == [TEST[real], TEST[fake]]
    whole = load_evaluation_sets([sets[real], sets[fake]])
    assert [len(image_set) for image_set in whole] == [WHOLE[real], WHOLE[fake]]


@pytest.mark.parametrize("kind", list(WHOLE))
def test_a_single_set_takes_the_split_only_if_it_has_splits(sets, kind):
    assert len(load_evaluation_sets([sets[kind]])[0]) == WHOLE[kind]
    if kind == "plain":
        with pytest.raises(UserError, match=r"--split test: no set here has splits \(.*plain image folder"):
            load_evaluation_sets([sets[kind]], "test")
    else:
        assert len(load_evaluation_sets([sets[kind]], "test")[0]) == TEST[kind]


def test_a_split_that_no_set_can_take_names_each_set(sets, tmp_path):
    splitless = tmp_path / "splitless.csv"
    write_manifest(
        splitless, [{"image": str(path), "condition": "acne"} for path in load_image_set(sets["plain"]).paths]
    )
    with pytest.raises(UserError) as error:
        load_evaluation_sets([sets["plain"], splitless], "test")
    message = str(error.value)
    assert f"{sets['plain']} is a plain image folder" in message
    assert f"{splitless} is a manifest with no split column and no splits.csv" in message
    assert "leave out --split" in message
    assert len(load_evaluation_sets([sets["manifest"], splitless], "test")[1]) == WHOLE["plain"]


def test_fid_scores_a_prepared_test_split_against_a_plain_folder(sets, tmp_path):
    result = evaluate(
        sets["prepared"],
        sets["plain"],
        split="test",
        trials=1,
        network=tiny_network(),
        cache=tmp_path / "cache",
        workers=0,
        progress=False,
    )
    assert (result.n_real, result.n_fake, result.split) == (TEST["prepared"], WHOLE["plain"], "test")


@pytest.mark.parametrize("command", ["fid", "kid"])
def test_the_commands_take_a_plain_folder_beside_a_split(monkeypatch, capsys, sets, tmp_path, command):
    monkeypatch.setattr(fid_module, "inception_network", tiny_network)
    options = ["--split", "test", "--cache", tmp_path / "cache", "--workers", "0", "--no-progress", "--json"]
    code, out, err = run_cli(monkeypatch, capsys, "eval", command, sets["plain"], sets["prepared"], *options)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["n_real"], result["n_fake"]) == (WHOLE["plain"], TEST["prepared"])


@pytest.mark.parametrize(
    "arguments",
    [
        ["fid", "PLAIN", "PLAIN"],
        ["kid", "PLAIN", "PLAIN"],
        ["tone", "PLAIN", "PLAIN", "--out", "OUT"],
        ["roi", "PLAIN", "--out", "OUT"],
        ["diversity", "PLAIN", "PLAIN"],
    ],
)
def test_every_command_refuses_a_split_no_set_has(monkeypatch, capsys, sets, tmp_path, arguments):
    monkeypatch.setattr(fid_module, "inception_network", tiny_network)
    places = {"PLAIN": sets["plain"], "OUT": tmp_path / "out"}
    arguments = [places.get(argument, argument) for argument in arguments]
    code, _, err = run_cli(monkeypatch, capsys, "eval", *arguments, "--split", "test", "--no-progress")
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: --split test: no set here has splits") and "plain image folder" in err
