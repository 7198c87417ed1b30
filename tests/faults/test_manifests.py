"""Manifests a hostile or careless user may give: every bad row named, nothing read that is not a photo."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from dermgan.data.boxes import group_boxes
from dermgan.data.manifest import read_manifest, write_manifest
from faults.conftest import error_line, photo_rows, run


@pytest.fixture
def rows(tmp_path: Path) -> list[dict[str, str]]:
    return photo_rows(tmp_path)


def manifest(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    return write_manifest(tmp_path / "manifest.csv", rows)


def problem_lines(err: str) -> list[str]:
    return [line.rsplit("\r", 1)[-1] for line in " ".join(err.split(" ")).splitlines() if "row " in line]


def test_a_symbolic_link_loop_is_a_bad_row_in_validate_and_prepare(monkeypatch, capsys, tmp_path, rows):
    os.symlink("loop.png", tmp_path / "images" / "loop.png")
    rows[3]["image"] = "images/loop.png"
    path = manifest(tmp_path, rows)
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--out", tmp_path / "v")
    assert code == 1 and "Traceback" not in err
    assert "row 4 (images/loop.png), image: is a symbolic link loop" in " ".join(err.split())
    code, _, err = run(monkeypatch, capsys, "data", "prepare", path, "--out", tmp_path / "p", "--size", "32")
    assert code == 1 and "Traceback" not in err and "error: 1 photo(s) cannot be used" in err
    assert "row 4 (images/loop.png), image: is a symbolic link loop" in err


@pytest.mark.timeout(60)
def test_a_fifo_is_refused_without_being_opened(monkeypatch, capsys, tmp_path, rows):
    os.mkfifo(tmp_path / "images" / "pipe.png")
    rows[0]["image"] = "images/pipe.png"
    code, _, err = run(monkeypatch, capsys, "data", "validate", manifest(tmp_path, rows), "--out", tmp_path)
    assert code == 1
    assert "row 1 (images/pipe.png), image: is not a regular file (a FIFO" in " ".join(err.split())


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_box_coordinate_that_is_not_finite_is_a_bad_row(monkeypatch, capsys, tmp_path, rows, value):
    rows[2]["boxes"] = f"[[10,10,{value},40]]"
    path = manifest(tmp_path, rows)
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--no-images", "--out", tmp_path)
    assert code == 1 and "row 3 (images/photo_02.png), boxes: box 1" in err
    assert "NaN or infinite" in " ".join(err.split())


def test_a_duplicate_header_column_is_refused(monkeypatch, capsys, tmp_path, rows):
    path = manifest(tmp_path, rows)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",condition", *(line + ",acne" for line in lines[1:])]) + "\n")
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--no-images")
    error_line(code, err, str(path), "'condition' twice (columns 2, 8)")
    jsonl = tmp_path / "manifest.jsonl"
    jsonl.write_text('{"image": "images/photo_00.png", "condition": "acne", "condition": "eczema"}\n')
    code, _, err = run(monkeypatch, capsys, "data", "validate", jsonl, "--no-images")
    error_line(code, err, str(jsonl), "line 1: key 'condition' appears twice")


def test_a_nul_byte_or_control_character_in_a_condition_is_a_bad_row(monkeypatch, capsys, tmp_path, rows):
    rows[1]["condition"] = "mela\0noma"
    rows[4]["condition"] = "acne\x07"
    path = manifest(tmp_path, rows)
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--no-images", "--out", tmp_path)
    err = " ".join(err.split())
    assert code == 1 and "row 2 (images/photo_01.png), condition: contains a NUL byte" in err
    assert "row 5 (images/photo_04.png), condition: 'acne\\x07' contains the control character U+0007" in err


def test_image_paths_outside_the_manifest_folder_are_named_and_refused_on_request(
    monkeypatch, capsys, tmp_path, rows
):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.move(tmp_path / "images", folder / "images")
    rows[0]["image"] = "../outside.png"
    rows[5]["image"] = str(folder / "images" / "photo_05.png")
    shutil.copy(folder / "images" / "photo_00.png", tmp_path / "outside.png")
    path = manifest(folder, rows)
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--out", tmp_path / "v")
    assert code == 0
    assert (
        "warning: 2 image path(s) lie outside the manifest's folder (an absolute or ../ path): rows 1, 6"
        in err
    )
    code, _, err = run(
        monkeypatch, capsys, "data", "validate", path, "--strict-paths", "--out", tmp_path / "v"
    )
    err = " ".join(err.split())
    assert code == 1 and "row 1 (../outside.png), image: lies outside the manifest's folder" in err
    assert f"row 6 ({rows[5]['image']}), image: lies outside" in err
    code, _, err = run(
        monkeypatch,
        capsys,
        "data",
        "prepare",
        path,
        "--strict-paths",
        "--out",
        tmp_path / "p",
        "--size",
        "32",
    )
    assert code == 1 and "row 1, image: lies outside the manifest's folder" in " ".join(err.split())
    assert not (tmp_path / "p").exists()


def test_a_photo_with_ten_thousand_boxes_reads_validates_and_groups_quickly(
    monkeypatch, capsys, tmp_path, rows
):
    boxes = [[x, y, x + 2, y + 2] for x in range(0, 400, 4) for y in range(0, 400, 4)]
    rows[0]["boxes"] = str(boxes).replace(" ", "")
    path = manifest(tmp_path, rows)
    assert len(rows[0]["boxes"]) > 131_072  # Python's own csv field limit
    assert read_manifest(path).rows[0]["boxes"] == rows[0]["boxes"]
    code, _, err = run(monkeypatch, capsys, "data", "validate", path, "--no-images", "--out", tmp_path)
    assert code == 0, err
    started = time.perf_counter()
    groups = group_boxes([tuple(map(float, box)) for box in boxes])
    assert len(groups) == 10_000 and time.perf_counter() - started < 10  # pairwise: minutes


def test_box_groups_are_those_of_the_pairwise_rule():
    import random

    from dermgan.data.boxes import box_gap, box_size

    def pairwise(boxes, ratio):
        groups = [[i] for i in range(len(boxes))]
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                b = boxes[j]
                if box_gap(a, b) <= ratio * (max(box_size(a)) + max(box_size(b))) / 2:
                    gi = next(g for g in groups if i in g)
                    gj = next(g for g in groups if j in g)
                    if gi is not gj:
                        gi.extend(gj)
                        groups.remove(gj)
        return sorted(sorted(boxes[i] for i in g) for g in groups)

    rng = random.Random(0)
    for _ in range(300):
        side = rng.choice([20, 200])
        boxes = []
        for _ in range(rng.randint(1, 25)):
            x, y = rng.randint(0, side), rng.randint(0, side)
            boxes.append((float(x), float(y), float(x + rng.randint(1, 30)), float(y + rng.randint(1, 30))))
        ratio = rng.choice([0.0, 0.5, 1.0])
        assert sorted(sorted(g) for g in group_boxes(boxes, ratio)) == pairwise(boxes, ratio)


def test_a_requested_condition_left_without_photos_stops_prepare_unless_allowed(
    monkeypatch, capsys, tmp_path, rows
):
    for row in rows:
        if row["condition"] == "eczema":
            (tmp_path / row["image"]).write_bytes(b"not an image")
    path = manifest(tmp_path, rows)
    arguments = ["data", "prepare", path, "--out", tmp_path / "p", "--size", "32", "--skip-bad"]
    code, _, err = run(monkeypatch, capsys, *arguments, "--conditions", "acne,eczema")
    error_line(
        code, err, "'eczema' (4 photo(s), skipped rows 5, 6, 11, 12) got no crop", "--allow-empty-conditions"
    )
    assert not (tmp_path / "p" / "codebook.json").exists()
    code, _, err = run(
        monkeypatch, capsys, *arguments, "--conditions", "acne,eczema", "--allow-empty-conditions"
    )
    assert code == 0 and "warning: condition(s) 'eczema'" in err
    assert '"eczema"' in (tmp_path / "p" / "codebook.json").read_text()
