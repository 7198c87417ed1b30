"""Command-line option types shared by `dermgan`'s commands and sub-command modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dermgan.errors import UserError

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Also print the result as one JSON object on the last line.")
]
Workers = Annotated[int | None, typer.Option(help="Worker processes (default: one per core, at most 8).")]
ConfigOverrides = Annotated[
    list[str] | None, typer.Option("--set", help="Override a config key: section.key=value (repeatable).")
]
Resume = Annotated[Path | None, typer.Option(help="Continue this run directory from its latest checkpoint.")]
FeatureCache = Annotated[
    Path | None, typer.Option(help="Feature cache folder (default: ~/.cache/dermgan/features).")
]
StrictPaths = Annotated[
    bool,
    typer.Option(
        "--strict-paths", help="Refuse image paths outside the manifest's folder (absolute or ../)."
    ),
]


def parse_counts(text: str | None, option: str) -> dict[str, int]:
    """ "melanoma=8, acne=20" -> {"melanoma": 8, "acne": 20}; empty or None -> {}."""
    counts: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, equals, value = item.rpartition("=")
        try:
            if not equals or not name.strip():
                raise ValueError
            counts[name.strip()] = int(value)
        except ValueError:
            raise UserError(f"{option} {item.strip()!r} must be NAME=COUNT, like melanoma=8") from None
    return counts


def parse_numbers(text: str, option: str) -> list[float]:
    """ "0, 0.5, 1" -> [0.0, 0.5, 1.0], each at least 0."""
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise UserError(f"{option} {text!r} must be comma-separated numbers, like 0,1,5") from None
    if not values or min(values) < 0:
        raise UserError(f"{option} {text!r} must be one or more numbers of at least 0, like 0,1,5")
    return values
