"""Command-line option types shared by `dermgan`'s commands and sub-command modules."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Also print the result as one JSON object on the last line.")
]
Workers = Annotated[int | None, typer.Option(help="Worker processes (default: one per core, at most 8).")]
