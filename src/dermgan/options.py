"""Command-line option types shared by `dermgan`'s commands and sub-command modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
