"""COCO files from any tool, or from a hostile one: one line naming the entry, no file read from elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import make_photo
from faults.conftest import error_line, run


def coco(tmp_path: Path, *, images=None, annotations=None, categories=None) -> Path:
    make_photo(tmp_path / "images" / "a.png")
    data = {
        "images": images or [{"id": 1, "file_name": "a.png", "width": 160, "height": 120}],
        "annotations": annotations or [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [60, 40, 30, 30]}],
        "categories": categories or [{"id": 1, "name": "melanoma"}],
    }
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("part", "value", "named"),
    [
        (
            "annotations",
            [{"id": 1, "image_id": [1], "category_id": 1, "bbox": [1, 1, 5, 5]}],
            "annotations[0].image_id is [1]",
        ),
        ("images", [{"id": {"a": 1}, "file_name": "a.png"}], 'images[0].id is {"a": 1}'),
        (
            "annotations",
            [{"id": 1, "image_id": 1, "category_id": True, "bbox": [1, 1, 5, 5]}],
            "category_id is true",
        ),
        ("categories", [{"id": 1, "name": None}], "categories[0].name is null, not a non-empty string"),
        ("images", [{"id": 1, "file_name": 7}], "images[0].file_name is 7"),
    ],
)
def test_an_entry_of_the_wrong_type_is_one_line(monkeypatch, capsys, tmp_path, part, value, named):
    path = coco(tmp_path, **{part: value})
    code, _, err = run(monkeypatch, capsys, "data", "import", "coco", path, "--out", tmp_path / "out")
    error_line(code, err, str(path), named)
    assert not (tmp_path / "out").exists()


def test_a_file_name_outside_the_folder_is_skipped_by_name_and_never_linked(monkeypatch, capsys, tmp_path):
    secret = tmp_path / "secret.png"
    make_photo(secret)
    images = [
        {"id": 1, "file_name": "a.png", "width": 160, "height": 120},
        {"id": 2, "file_name": str(secret), "width": 160, "height": 120},
        {"id": 3, "file_name": "../secret.png", "width": 160, "height": 120},
    ]
    annotations = [{"id": i, "image_id": i, "category_id": 1, "bbox": [60, 40, 30, 30]} for i in (1, 2, 3)]
    folder = tmp_path / "dataset"
    folder.mkdir()
    path = coco(folder, images=images, annotations=annotations)
    code, _, err = run(monkeypatch, capsys, "data", "import", "coco", path, "--out", tmp_path / "out")
    assert code == 0
    assert "warning: 2 images were skipped because their file_name points outside the COCO file's folder" in (
        " ".join(err.split())
    )
    assert sorted(p.name for p in (tmp_path / "out" / "images").rglob("*.png")) == ["a.png"]
    imported = json.loads((tmp_path / "out" / "import.json").read_text())
    assert {item["item"] for item in imported["skipped"]} == {str(secret), "../secret.png"}
