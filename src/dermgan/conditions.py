"""Skin-tone scales (Fitzpatrick, Monk, ITA bands) and the parsing of skin-type labels.

A condition vocabulary is data, not code: it comes from the manifest and is frozen into the codebook
by `data prepare`. What lives here are the fixed scales every stage shares.
"""

from __future__ import annotations

import math
import re

from dermgan.errors import UserError

FITZPATRICK_TYPES = (1, 2, 3, 4, 5, 6)
MONK_TONES = tuple(range(1, 11))
UNKNOWN_SKIN_TYPE = ""
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}

# Individual Typology Angle bands (degrees) per Fitzpatrick type: (lower, upper], from lightest to darkest.
ITA_BANDS: dict[int, tuple[float, float]] = {
    1: (55.0, 90.0),
    2: (41.0, 55.0),
    3: (28.0, 41.0),
    4: (19.0, 28.0),
    5: (10.0, 19.0),
    6: (-90.0, 10.0),
}

_SKIN_TYPE = re.compile(r"^\s*([1-6])\s*(?:-\s*([1-6])\s*)?$")


def parse_skin_type(text: str) -> str:
    """Canonical form of a skin-type label: "3", "1-2", or "" for unknown; UserError when invalid."""
    text = (text or "").strip()
    if not text:
        return UNKNOWN_SKIN_TYPE
    match = _SKIN_TYPE.match(text)
    if not match:
        raise UserError(f"skin type {text!r} is neither N nor N-M with N, M in 1-6")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low:
        raise UserError(f"skin type range {text!r} runs backwards; write {high}-{low}")
    return str(low) if low == high else f"{low}-{high}"


def skin_type_bounds(skin_type: str) -> tuple[int, int] | None:
    """(lowest, highest) Fitzpatrick type of a canonical label, None for unknown."""
    if not skin_type:
        return None
    low, _, high = skin_type.partition("-")
    return int(low), int(high or low)


def skin_type_sort_key(skin_type: str) -> tuple[float, float]:
    """Orders labels from lightest to darkest by midpoint, then width; unknown last."""
    bounds = skin_type_bounds(skin_type)
    if bounds is None:
        return (math.inf, 0.0)
    return ((bounds[0] + bounds[1]) / 2, bounds[1] - bounds[0])


def ita_degrees(lightness: float, b_star: float) -> float:
    """Individual Typology Angle: atan2(L* - 50, b*) in degrees."""
    return math.degrees(math.atan2(lightness - 50.0, b_star))


def fitzpatrick_from_ita(ita: float) -> int:
    """The Fitzpatrick type whose ITA band holds `ita`."""
    for skin_type, (low, high) in ITA_BANDS.items():
        if low < ita <= high or (skin_type == 1 and ita > high) or (skin_type == 6 and ita <= low):
            return skin_type
    raise AssertionError(f"ITA {ita} falls in no band")  # unreachable: the bands cover the circle
