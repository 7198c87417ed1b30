"""How comma-separated options read, once for every command and the Python API."""

from __future__ import annotations

from dermgan.errors import UserError


def split_list(text: str | None) -> list[str]:
    """ "a, b,,c" -> ["a", "b", "c"]: the one reading of a comma-separated option; None -> []."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def parse_counts(text: str | None, option: str) -> dict[str, int]:
    """ "melanoma=8, acne=20" -> {"melanoma": 8, "acne": 20}; empty or None -> {}."""
    counts: dict[str, int] = {}
    for item in split_list(text):
        name, equals, value = item.rpartition("=")
        try:
            if not equals or not name.strip():
                raise ValueError
            counts[name.strip()] = int(value)
        except ValueError:
            raise UserError(f"{option} {item!r} must be NAME=COUNT, like melanoma=8") from None
    return counts


def parse_numbers(text: str, option: str) -> list[float]:
    """ "0, 0.5, 1" -> [0.0, 0.5, 1.0], each at least 0."""
    try:
        values = [float(item) for item in split_list(text)]
    except ValueError:
        raise UserError(f"{option} {text!r} must be comma-separated numbers, like 0,1,5") from None
    if not values or min(values) < 0:
        raise UserError(f"{option} {text!r} must be one or more numbers of at least 0, like 0,1,5")
    return values
