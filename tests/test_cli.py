"""The command line: results on stdout (JSON last with --json), one clear message and exit 1 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli


def test_validate_prints_a_summary_and_json(monkeypatch, capsys, small_dataset: Path, tmp_path: Path):
    code, out, _ = run_cli(
        monkeypatch, capsys, "data", "validate", small_dataset, "--json", "--out", tmp_path / "r"
    )
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["n_usable"] == 12 and result["usable"] is True
    assert "melanoma" in out and (tmp_path / "r" / "validate.json").exists()


def test_validate_lists_problems_and_fails(monkeypatch, capsys, small_dataset: Path):
    (small_dataset.parent / "images" / "photo_04.png").unlink()
    code, _, err = run_cli(monkeypatch, capsys, "data", "validate", small_dataset)
    assert code == 1
    assert "row 5 (images/photo_04.png), image: file does not exist" in err
    code, _, _ = run_cli(monkeypatch, capsys, "data", "validate", small_dataset, "--skip-bad")
    assert code == 0 and (small_dataset.parent / "skipped.csv").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["data", "validate", "nowhere.csv"], "manifest nowhere.csv does not exist"),
        (
            ["data", "prepare", "{manifest}", "--out", "{tmp}/p", "--split", "0.5,0.5"],
            "three non-negative fractions",
        ),
        (["data", "prepare", "{manifest}", "--out", "{tmp}/p", "--size", "8"], "too small"),
        (["data", "show", "{tmp}", "--out", "{tmp}/g.png"], "not a folder written by `dermgan data prepare`"),
        (["data", "show", "{tmp}/none", "--out", "{tmp}/g.png"], "manifest.csv does not exist"),
        (["data", "phantom", "--out", "{tmp}/ph", "--size-range", "640,320"], "the first not larger"),
    ],
)
def test_bad_input_is_one_message_without_traceback(
    monkeypatch, capsys, small_dataset, tmp_path, args, needle
):
    args = [a.format(manifest=small_dataset, tmp=tmp_path) for a in args]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 1
    assert err.startswith("error: ") and needle in " ".join(err.split())
    assert "Traceback" not in err


def test_prepare_then_show(monkeypatch, capsys, small_dataset: Path, tmp_path: Path):
    code, out, _ = run_cli(
        monkeypatch,
        capsys,
        "data",
        "prepare",
        small_dataset,
        "--out",
        tmp_path / "p",
        "--size",
        "32",
        "--json",
    )
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["n_crops"] == 12
    code, _, _ = run_cli(
        monkeypatch, capsys, "data", "show", tmp_path / "p", "--out", tmp_path / "grid.png", "--n", "4"
    )
    assert code == 0 and (tmp_path / "grid.png").stat().st_size > 0
