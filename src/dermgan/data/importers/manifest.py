"""Our own manifest (CSV or JSONL): its images are re-homed under OUT and every column passes through."""

from __future__ import annotations

from pathlib import Path

from dermgan.conditions import parse_skin_type
from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext
from dermgan.data.manifest import REQUIRED_COLUMNS, STANDARD_COLUMNS, parse_boxes, read_manifest
from dermgan.errors import UserError

DEFAULT_NAMES = ("manifest.csv", "manifest.jsonl")
TYPED_COLUMNS = ("image", "condition", "skin_type", "boxes", "case_id")
OVERFLOW = "\0extra"  # where read_manifest puts the values of a row longer than its header


def _manifest_path(src: Path) -> Path:
    if src.is_file():
        return src
    for name in DEFAULT_NAMES:
        if (src / name).is_file():
            return src / name
    raise UserError(f"{src} holds no {' or '.join(DEFAULT_NAMES)}; give the manifest file itself")


def _checked(path: Path, number: int, row: dict[str, str]) -> ListedImage:
    where = f"{path} row {number}"
    if OVERFLOW in row:
        raise UserError(f"{where} has more values than the header has columns; quote values holding commas")
    try:
        boxes = parse_boxes(row.get("boxes", ""))
    except ValueError as error:
        raise UserError(f"{where}, column boxes: {error}") from None
    try:
        skin_type = parse_skin_type(row.get("skin_type", ""))
    except UserError as error:
        raise UserError(f"{where}, column skin_type: {error}") from None
    name = row.get("image", "")
    return ListedImage(
        name=name,
        path=path.parent / name if name and (path.parent / name).is_file() else None,
        condition=row.get("condition", ""),
        skin_type=skin_type,
        case_id=row.get("case_id", ""),
        boxes=boxes,
        extra={key: value for key, value in row.items() if key not in TYPED_COLUMNS},
    )


def read_manifest_dataset(src: Path, context: ReadContext) -> DatasetListing:
    """Every row as it is: image paths resolve against the manifest's folder."""
    table = read_manifest(_manifest_path(src))
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise UserError(
            f"{table.path} has no column {', '.join(missing)}; a manifest needs {', '.join(STANDARD_COLUMNS)}"
            " (only image and condition are required)"
        )
    images = [_checked(table.path, number, row) for number, row in enumerate(table.rows, start=1)]
    return DatasetListing(images=images, license="")
