"""Mix-ups a user can make end in one message naming the thing, without a traceback."""

from __future__ import annotations

import classify_world
import pytest

from conftest import run_cli

world = classify_world.world


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            lambda w, tmp: ["classify", "train", "--data", w.synthetic, "--out", tmp / "run"],
            "holds only synthetic images: --data takes the real manifest",
        ),
        (
            lambda w, tmp: ["classify", "eval", "--model", w.generator, "--data", w.manifest],
            "is not a classifier run (no run.json)",
        ),
        (
            lambda w, tmp: ["classify", "train", "--resume", w.prepared],
            "is not a classifier run (no run.json)",
        ),
        (
            lambda w, tmp: ["classify", "train", "--data", tmp / "none.csv", "--out", tmp / "run"],
            "none.csv does not exist",
        ),
    ],
    ids=["synthetic-as-data", "eval-of-a-generator", "resume-of-a-prepared-folder", "missing-manifest"],
)
def test_a_mix_up_ends_in_one_clear_message(world, tmp_path, monkeypatch, capsys, arguments, message):
    code, _, err = run_cli(monkeypatch, capsys, *arguments(world, tmp_path), "--no-progress")
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
