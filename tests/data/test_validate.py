"""Every kind of bad input ends in a named problem (row, column, reason), all reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo
from dermgan.data.images import MAX_PIXELS, load_rgb
from dermgan.data.manifest import write_manifest
from dermgan.data.validate import validate_manifest, write_validation
from dermgan.errors import UserError

GOOD_BOX = "[[10,10,40,40]]"


def manifest_of(tmp_path: Path, rows: list[dict[str, str]], name: str = "manifest.csv") -> Path:
    return write_manifest(tmp_path / name, rows)


def row(image: str, **overrides: str) -> dict[str, str]:
    return {"image": image, "condition": "melanoma", "skin_type": "2", "boxes": GOOD_BOX, **overrides}


def reasons(report) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in report.problems]


def one_problem(tmp_path: Path, image_path: Path, **overrides: str) -> str:
    manifest = manifest_of(tmp_path, [row(image_path.relative_to(tmp_path).as_posix(), **overrides)])
    report, _ = validate_manifest(manifest, progress=False)
    assert not report.usable
    assert len(report.problems) == 1, report.problems
    return report.problems[0].reason


def test_a_clean_manifest_is_usable_and_summarised(small_dataset: Path):
    report, records = validate_manifest(small_dataset, progress=False)
    assert report.usable and not report.problems
    assert report.n_rows == report.n_usable == len(records) == 12
    assert report.n_cases == 6 and report.n_without_boxes == 0
    assert report.counts["melanoma"] == {"1": 2, "4": 2}
    assert records[0].extra == {"license": "CC0-1.0"}


@pytest.mark.parametrize(
    ("overrides", "column", "needle"),
    [
        ({"condition": ""}, "condition", "is empty"),
        ({"skin_type": "7"}, "skin_type", "neither N nor N-M"),
        ({"skin_type": "fair"}, "skin_type", "neither N nor N-M"),
        ({"skin_type": "0"}, "skin_type", "neither N nor N-M"),
        ({"skin_type": "4-2"}, "skin_type", "backwards"),
        ({"boxes": "[[40,10,10,40]]"}, "boxes", "inverted or has zero area"),
        ({"boxes": "[[10,10,10,40]]"}, "boxes", "inverted or has zero area"),
        ({"boxes": "[[-20,10,30,40]]"}, "boxes", "outside the image"),
        ({"boxes": "[[10,10,400,40]]"}, "boxes", "outside the 160x120 image"),
        ({"boxes": "[[10,10,40]]"}, "boxes", "four numbers"),
        ({"boxes": "not json"}, "boxes", "JSON list"),
        ({"split": "training"}, "split", "not one of train, val, test"),
        ({"source": "fake"}, "source", "not one of real, synthetic"),
    ],
)
def test_bad_cells_are_named(tmp_path: Path, overrides, column, needle):
    photo = make_photo(tmp_path / "a.png")
    manifest = manifest_of(tmp_path, [row("a.png", **overrides)])
    report, _ = validate_manifest(manifest, progress=False)
    assert not report.usable
    assert [(p.row, p.column) for p in report.problems] == [(1, column)]
    assert needle in report.problems[0].reason
    assert photo.exists()


def test_every_problem_is_reported_at_once(tmp_path: Path):
    make_photo(tmp_path / "a.png")
    rows = [
        row("a.png"),
        row("missing.png"),
        row("a.png"),
        row("a2.png", condition="", skin_type="9", boxes="[[5,5,1,1]]"),
    ]
    report, records = validate_manifest(manifest_of(tmp_path, rows), progress=False)
    found = {(r, c) for r, c, _ in reasons(report)}
    assert found == {(2, "image"), (3, "image"), (4, "condition"), (4, "skin_type"), (4, "boxes")}
    assert "duplicates row 1" in next(p.reason for p in report.problems if p.row == 3)
    assert "does not exist" in next(p.reason for p in report.problems if p.row == 2)
    assert [r.row for r in records] == [1]


def test_vocabulary_rejects_unknown_conditions_with_a_hint(tmp_path: Path):
    make_photo(tmp_path / "a.png")
    manifest = manifest_of(tmp_path, [row("a.png", condition="melanom")])
    report, _ = validate_manifest(manifest, conditions=["melanoma", "acne"], progress=False)
    assert "not in the vocabulary" in report.problems[0].reason
    assert "did you mean 'melanoma'" in report.problems[0].reason
    report, _ = validate_manifest(manifest, progress=False)
    assert report.usable, "without --conditions every non-empty label is accepted"


def test_a_case_in_two_splits_is_refused(tmp_path: Path):
    make_photo(tmp_path / "a.png")
    make_photo(tmp_path / "b.png")
    rows = [row("a.png", case_id="c1", split="train"), row("b.png", case_id="c1", split="test")]
    report, _ = validate_manifest(manifest_of(tmp_path, rows), progress=False)
    assert reasons(report) == [(2, "split", "case 'c1' is in 'test' here but in 'train' on row 1")]


def test_truncated_and_corrupt_files(tmp_path: Path):
    make_photo(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "noise.jpg").write_bytes(b"\x00not an image at all" * 10)
    (tmp_path / "folder.jpg").mkdir()
    assert "truncated or corrupt" in one_problem(tmp_path, tmp_path / "truncated.jpg")
    assert "not an image" in one_problem(tmp_path, tmp_path / "noise.jpg")
    assert "is a folder" in one_problem(tmp_path, tmp_path / "folder.jpg")


def test_decompression_bomb_is_refused(tmp_path: Path):
    side = int(MAX_PIXELS**0.5) + 100
    Image.new("1", (side, side)).save(tmp_path / "bomb.png")
    assert "decompression bomb" in one_problem(tmp_path, tmp_path / "bomb.png", boxes="")


@pytest.mark.parametrize(
    ("mode", "pixel"),
    [("L", 128), ("P", 3), ("RGBA", (200, 150, 120, 255)), ("CMYK", (10, 60, 80, 20)), ("LA", (90, 255))],
)
def test_convertible_modes_become_rgb(tmp_path: Path, mode, pixel):
    path = tmp_path / ("photo.jpg" if mode == "CMYK" else "photo.png")
    Image.new(mode, (64, 48), pixel).save(path)
    image = load_rgb(path)
    assert image.mode == "RGB" and image.size == (64, 48)


def test_sixteen_bit_is_scaled_not_clipped(tmp_path: Path):
    values = np.full((20, 30), 40000, dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    pixel = np.asarray(load_rgb(tmp_path / "deep.png"))[0, 0]
    assert list(pixel) == [156, 156, 156]  # 40000 / 65535 * 255


def test_transparent_pixels_become_white(tmp_path: Path):
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(tmp_path / "clear.png")
    assert list(np.asarray(load_rgb(tmp_path / "clear.png"))[0, 0]) == [255, 255, 255]


def test_float_images_are_refused(tmp_path: Path):
    Image.fromarray(np.ones((16, 16), dtype=np.float32)).save(tmp_path / "float.tif")
    assert "cannot be converted to 8-bit RGB" in one_problem(tmp_path, tmp_path / "float.tif", boxes="")


def test_exif_rotation_is_applied_and_boxes_are_in_displayed_orientation(tmp_path: Path):
    path = make_photo(tmp_path / "raw.png", width=160, height=120)
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated by 90 degrees clockwise
    Image.open(path).save(tmp_path / "rotated.jpg", exif=exif)
    assert load_rgb(tmp_path / "rotated.jpg").size == (120, 160)
    tall_box = "[[10,10,100,150]]"  # fits 120x160, not the stored 160x120
    report, _ = validate_manifest(manifest_of(tmp_path, [row("rotated.jpg", boxes=tall_box)]), progress=False)
    assert report.usable
    assert "outside the 120x160 image" in one_problem(
        tmp_path, tmp_path / "rotated.jpg", boxes="[[10,10,150,40]]"
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"image,condition\n", "no rows"),
        (b"image,skin_type\na.png,2\n", "missing required column(s) condition"),
        (b"image,condition\na.png,m\xe9lanome\n", "line 2 is not UTF-8"),
    ],
)
def test_unusable_manifests_are_one_clear_error(tmp_path: Path, content: bytes, needle: str):
    (tmp_path / "manifest.csv").write_bytes(content)
    with pytest.raises(UserError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        validate_manifest(tmp_path / "manifest.csv", progress=False)


def test_missing_manifest(tmp_path: Path):
    with pytest.raises(UserError, match="does not exist"):
        validate_manifest(tmp_path / "nope.csv", progress=False)


def test_jsonl_manifests_read_like_csv(tmp_path: Path, small_dataset: Path):
    csv_report, csv_records = validate_manifest(small_dataset, check_image_files=False)
    lines = [json.dumps({**r.as_row(), "boxes": [list(b) for b in r.boxes]}) for r in csv_records]
    (small_dataset.parent / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    jsonl_report, jsonl_records = validate_manifest(
        small_dataset.parent / "manifest.jsonl", check_image_files=False
    )
    assert jsonl_report.counts == csv_report.counts
    assert [r.boxes for r in jsonl_records] == [r.boxes for r in csv_records]


def test_skip_bad_keeps_going_and_writes_the_skipped_rows(tmp_path: Path):
    make_photo(tmp_path / "a.png")
    make_photo(tmp_path / "b.png")
    rows = [row("a.png"), row("gone.png"), row("b.png", skin_type="x")]
    report, records = validate_manifest(manifest_of(tmp_path, rows), skip_bad=True, progress=False)
    assert report.usable and len(records) == 1 and len(report.problems) == 2
    written = write_validation(report, tmp_path / "report", skip_bad=True)
    skipped = written[1].read_text().splitlines()
    assert skipped[0] == "row,image,column,reason" and len(skipped) == 3
    assert json.loads(written[0].read_text())["n_usable"] == 1
