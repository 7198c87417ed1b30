"""Reading a COCO detection file, as any annotation tool exports it, into boxes per image and category."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dermgan.data.manifest import Box
from dermgan.errors import UserError
from dermgan.files import is_special_file


@dataclass(frozen=True)
class CocoImage:
    """An image entry: its own keys merged over its `attributes` dict, its boxes by category name, and
    the name of the licence it points to in the file's `licenses` list."""

    file_name: str
    attributes: dict[str, Any]
    boxes: dict[str, list[Box]]
    license: str = ""

    def attribute(self, *keys: str) -> str:
        """The first of `keys` the image carries, as text; empty when it has none."""
        for key in keys:
            value = self.attributes.get(key)
            if value not in (None, ""):
                return str(value)
        return ""


@dataclass(frozen=True)
class CocoFile:
    images: list[CocoImage]
    n_unusable_boxes: int


def _load(path: Path) -> dict[str, Any]:
    if is_special_file(path):
        raise UserError(f"COCO file {path} is not a regular file (a FIFO, socket or device); give a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise UserError(f"COCO file {path} does not exist") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; export the annotations as COCO JSON") from None
    except json.JSONDecodeError as error:
        raise UserError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
            "export the annotations again as COCO JSON"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise UserError(f'{path} has no "images" list, so it is not a COCO detection file')
    return data


ID_KEYS = ("id", "image_id", "category_id")
"""Keys that join the file's lists: a number or a string each (a list or dict cannot be looked up)."""
TEXT_KEYS = {"images": ("file_name",), "categories": ("name",)}
"""Keys that must be non-empty text: a null category name would become the condition "None"."""


def _check_types(entry: dict[str, Any], key: str, index: int, path: Path) -> None:
    for name in ID_KEYS:
        value = entry.get(name)
        if name in entry and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise UserError(
                f"{path}: {key}[{index}].{name} is {json.dumps(value)[:60]}, not a number or a string; "
                "fix or re-export the file"
            )
    for name in TEXT_KEYS.get(key, ()):
        value = entry.get(name)
        if name in entry and (not isinstance(value, str) or not value.strip()):
            raise UserError(
                f"{path}: {key}[{index}].{name} is {json.dumps(value)[:60]}, not a non-empty string; "
                "fix or re-export the file"
            )


def _entries(data: dict[str, Any], key: str, required: tuple[str, ...], path: Path) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise UserError(f'{path}: "{key}" is not a list')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or any(name not in entry for name in required):
            raise UserError(f"{path}: {key}[{index}] needs {', '.join(required)}; fix or re-export the file")
        _check_types(entry, key, index, path)
    return entries


def _attributes(entry: dict[str, Any]) -> dict[str, Any]:
    """Tools store custom fields either on the image entry or in its `attributes` dict (CVAT)."""
    nested = entry.get("attributes")
    return {**(nested if isinstance(nested, dict) else {}), **entry}


def _corner_box(bbox: Any, width: Any, height: Any) -> Box | None:
    """COCO's [x, y, w, h] as [x0, y0, x1, y1], clipped to the image when its size is known."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
        return None
    x, y, w, h = (float(v) for v in bbox)
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), x + w, y + h
    if isinstance(width, (int, float)) and width > 0:
        x1 = min(x1, float(width))
    if isinstance(height, (int, float)) and height > 0:
        y1 = min(y1, float(height))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _hashable(value: Any) -> bool:
    return isinstance(value, (int, str, type(None)))


def read_coco(path: Path) -> CocoFile:
    """The images of a COCO file with their boxes; UserError for a file that is not COCO JSON."""
    data = _load(path)
    images = _entries(data, "images", ("id", "file_name"), path)
    licenses = {
        entry["id"]: str(entry.get("name") or "") for entry in _entries(data, "licenses", ("id",), path)
    }
    categories = {
        entry["id"]: str(entry["name"]) for entry in _entries(data, "categories", ("id", "name"), path)
    }
    boxes: dict[Any, dict[str, list[Box]]] = {entry["id"]: {} for entry in images}
    sizes = {entry["id"]: (entry.get("width"), entry.get("height")) for entry in images}
    unusable = 0
    for index, annotation in enumerate(_entries(data, "annotations", ("image_id", "category_id"), path)):
        if annotation["image_id"] not in boxes:
            raise UserError(
                f"{path}: annotations[{index}] refers to image id {annotation['image_id']!r}, "
                "which the images list lacks"
            )
        if annotation["category_id"] not in categories:
            raise UserError(
                f"{path}: annotations[{index}] refers to category id "
                f"{annotation['category_id']!r}, which the categories list lacks"
            )
        box = _corner_box(annotation.get("bbox"), *sizes[annotation["image_id"]])
        if box is None:
            unusable += 1
            continue
        category = categories[annotation["category_id"]]
        boxes[annotation["image_id"]].setdefault(category, []).append(box)
    return CocoFile(
        images=[
            CocoImage(
                file_name=str(entry["file_name"]),
                attributes=_attributes(entry),
                boxes=boxes[entry["id"]],
                license=licenses.get(entry.get("license"), "") if _hashable(entry.get("license")) else "",
            )
            for entry in images
        ],
        n_unusable_boxes=unusable,
    )
