"""Skin types as public datasets write them ("3.0", "-1", "FST3"), and the user's own skin-type CSV."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

from dermgan.conditions import UNKNOWN_SKIN_TYPE, parse_skin_type
from dermgan.data.importers.locate import file_key
from dermgan.data.importers.tables import read_table
from dermgan.errors import UserError

UNKNOWN_MARKERS = {"", "-1", "nan", "none", "unknown", "none_selected", "none_identified"}
_WHOLE_NUMBER = re.compile(r"^\s*(\d+)(?:\.0+)?\s*$")
_FST_LABEL = re.compile(r"^\s*FST([1-6])\s*$", re.IGNORECASE)


def skin_type_from_number(text: str) -> str:
    """Canonical type of "3", "3.0", "FST3" or "1-2"; "-1", "nan" and empty mean unknown; UserError
    for anything else."""
    text = (text or "").strip()
    if text.lower() in UNKNOWN_MARKERS:
        return UNKNOWN_SKIN_TYPE
    if fst := _FST_LABEL.match(text):
        return fst.group(1)
    whole = _WHOLE_NUMBER.match(text)
    return parse_skin_type(whole.group(1) if whole else text)


def fitzpatrick_from_fst(text: str) -> int | None:
    """SCIN's "FST3" -> 3; NONE_SELECTED, empty or anything else -> None (unknown)."""
    match = _FST_LABEL.match(text or "")
    return int(match.group(1)) if match else None


def median_skin_type(types: list[int]) -> str:
    """The median of several graders' types; a median between two types becomes the range "N-(N+1)"."""
    if not types:
        return UNKNOWN_SKIN_TYPE
    middle = statistics.median(types)
    low, high = math.floor(middle), math.ceil(middle)
    return str(low) if low == high else f"{low}-{high}"


def read_skin_types(path: Path) -> dict[str, str]:
    """The user's CSV of skin types, keyed by image file name (columns file_name or image, skin_type)."""
    if not path.is_file():
        raise UserError(f"skin-types file {path} does not exist; give a CSV with file_name and skin_type")
    table = read_table(path, [("file_name", "image"), "skin_type"], dataset="skin-types")
    name_column = table.column(("file_name", "image"))
    skin_types: dict[str, str] = {}
    for line, row in table:
        name = file_key(row[name_column])
        skin_type = table.parse(line, row, "skin_type", skin_type_from_number)
        if skin_types.setdefault(name, skin_type) != skin_type:
            raise table.error(line, "skin_type", f"{name} is listed again with another skin type")
    return skin_types
