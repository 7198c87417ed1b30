"""The manifest: one row per image (CSV or JSONL), the single format every stage reads and writes.

Columns: `image` (path relative to the manifest), `condition`, `skin_type` (N or N-M, empty = unknown),
`boxes` (JSON list of [x0, y0, x1, y1] in displayed pixels), `case_id`, `split`, `source`; any other
column (licence, Monk tone, provenance) is kept and passed through.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from dermgan.errors import UserError
from dermgan.files import atomic_write, is_special_file

REQUIRED_COLUMNS = ("image", "condition")
STANDARD_COLUMNS = ("image", "condition", "skin_type", "boxes", "case_id", "split", "source")
SPLITS = ("train", "val", "test")
RESERVE = "reserve"
"""Cases held back from every training (the GAN's and the classifiers'): the real photos that a data-value
study adds to measure what a synthetic image is worth, which its generator must never have seen."""
SPLIT_VALUES = (*SPLITS, RESERVE)
SOURCES = ("real", "synthetic")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
FIELD_SIZE_LIMIT = 2**31 - 1
"""Python's csv module refuses fields over 128 KiB by default; a photo with 100,000 boxes needs more."""

Box = tuple[float, float, float, float]


@dataclass
class ManifestTable:
    """The raw text of a manifest: its columns and rows as strings, before any checking."""

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


@dataclass(frozen=True)
class Record:
    """One checked manifest row; `row` is its 1-based data row number for messages."""

    row: int
    image: str
    condition: str
    skin_type: str = ""
    boxes: tuple[Box, ...] = ()
    case_id: str = ""
    split: str = ""
    source: str = "real"
    extra: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, base_dir: Path) -> Path:
        """The image's absolute path; a symbolic link loop stays unresolved, for load_rgb to refuse."""
        try:
            return (base_dir / self.image).resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, later ones OSError
            return Path(os.path.abspath(base_dir / self.image))

    def as_row(self) -> dict[str, str]:
        return {
            "image": self.image,
            "condition": self.condition,
            "skin_type": self.skin_type,
            "boxes": format_boxes(self.boxes),
            "case_id": self.case_id,
            "split": self.split,
            "source": self.source,
            **self.extra,
        }


def is_outside(image: str) -> bool:
    """A path that leaves the folder it is relative to: absolute (POSIX or Windows) or climbing with ../."""
    if os.path.isabs(image) or image.startswith(("/", "\\")) or PureWindowsPath(image).drive:
        return True
    return os.path.normpath(image.replace("\\", "/")).split(os.sep)[0] == os.pardir


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path}: line {line} is not UTF-8 text (byte {data[error.start]:#04x}); "
            "re-save the manifest as UTF-8"
        ) from None


def _cell(value: object) -> str:
    """JSONL values become the same strings a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    return [name for name in names if name in seen or seen.add(name)]


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    repeated = _duplicates([key for key, _ in pairs])
    if repeated:
        raise ValueError(f"key {repeated[0]!r} appears twice")
    return dict(pairs)


def _read_jsonl(text: str, path: Path) -> tuple[list[str], list[dict[str, str]]]:
    columns: dict[str, None] = {}
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as error:
            raise UserError(f"{path}: line {number} is not valid JSON ({error.msg})") from None
        except ValueError as error:
            raise UserError(f"{path}: line {number}: {error}; keep one copy of each key") from None
        if not isinstance(item, dict):
            raise UserError(f"{path}: line {number} is not a JSON object")
        columns.update(dict.fromkeys(item))
        rows.append({key: _cell(value) for key, value in item.items()})
    return list(columns), rows


def _read_csv(text: str, path: Path) -> tuple[list[str], list[dict[str, str]]]:
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}: the manifest is empty (no header row)") from None
    except csv.Error as error:
        raise UserError(f"{path}: unreadable CSV header ({error})") from None
    columns = [name.strip() for name in header]
    repeated = _duplicates(columns)
    if repeated:
        positions = [str(index) for index, name in enumerate(columns, start=1) if name == repeated[0]]
        raise UserError(
            f"{path}: the header names column {repeated[0]!r} twice (columns {', '.join(positions)}); "
            "rename or delete one copy, so no value is silently dropped"
        )
    rows = []
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            row = dict(zip(columns, values, strict=False))
            if len(values) > len(columns):
                row["\0extra"] = ",".join(values[len(columns) :])
            rows.append(row)
    except csv.Error as error:
        raise UserError(f"{path}: unreadable CSV at line {reader.line_num} ({error})") from None
    return columns, rows


def read_manifest(path: str | os.PathLike[str]) -> ManifestTable:
    """Reads a CSV or JSONL manifest as text; UserError for a missing, non-UTF-8 or unparseable file."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; give the manifest file inside it (e.g. {path}/manifest.csv)")
    if is_special_file(path):
        raise UserError(f"manifest {path} is not a regular file (a FIFO, socket or device); give a file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"manifest {path} does not exist") from None
    except OSError as error:
        raise UserError(f"manifest {path} cannot be read: {error.strerror}") from None
    text = _decode(data, path)
    reader = _read_jsonl if path.suffix.lower() in JSONL_SUFFIXES else _read_csv
    columns, rows = reader(text, path)
    return ManifestTable(path=path, columns=columns, rows=rows)


def format_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 3)


def format_boxes(boxes: Iterable[Sequence[float]]) -> str:
    boxes = [[format_number(v) for v in box] for box in boxes]
    return json.dumps(boxes, separators=(",", ":")) if boxes else ""


def parse_boxes(text: str) -> tuple[Box, ...]:
    """Boxes from their JSON text; ValueError with the reason when malformed."""
    text = (text or "").strip()
    if not text:
        return ()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("is not a JSON list of [x0, y0, x1, y1] boxes") from None
    if not isinstance(value, list):
        raise ValueError("is not a JSON list of [x0, y0, x1, y1] boxes")
    boxes = []
    for index, box in enumerate(value, start=1):
        ok = isinstance(box, list) and len(box) == 4
        if not ok or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
            raise ValueError(f"box {index} is not four numbers [x0, y0, x1, y1]")
        if not all(math.isfinite(v) for v in box):
            raise ValueError(f"box {index} {box} has a coordinate that is NaN or infinite")
        boxes.append(tuple(float(v) for v in box))
    return tuple(boxes)


def manifest_columns(rows: Iterable[Mapping[str, str]]) -> list[str]:
    """The standard columns first, then every extra column in the order first seen."""
    extra: dict[str, None] = {}
    for row in rows:
        extra.update({key: None for key in row if key not in STANDARD_COLUMNS})
    return [*STANDARD_COLUMNS, *extra]


def write_manifest(path: str | os.PathLike[str], rows: Sequence[Mapping[str, str]]) -> Path:
    """Writes rows as CSV (or JSONL by suffix), atomically; returns the path."""
    path = Path(path)
    columns = manifest_columns(rows)
    if path.suffix.lower() in JSONL_SUFFIXES:

        def write(handle):
            for row in rows:
                handle.write(json.dumps({c: row.get(c, "") for c in columns}, ensure_ascii=False) + "\n")

    else:

        def write(handle):
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)
    return path
