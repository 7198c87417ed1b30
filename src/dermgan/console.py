"""What commands print: human tables on the terminal, and with --json one JSON object as the last line."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from dermgan.conditions import skin_type_sort_key

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def print_json_line(result: BaseModel) -> None:
    """The machine-readable result, alone on the last line of standard output."""
    sys.stdout.flush()
    print(json.dumps(result.model_dump(mode="json"), separators=(",", ":")), flush=True)


def counts_table(title: str, counts: Mapping[str, Mapping[str, int]]) -> Table:
    """Rows = conditions, columns = skin types (light to dark, unknown last), with totals."""
    skin_types = sorted(
        {t for row in counts.values() for t in row},
        key=lambda t: skin_type_sort_key("" if t == "unknown" else t),
    )
    table = Table(title=title, title_justify="left")
    table.add_column("condition")
    for skin_type in skin_types:
        table.add_column(f"type {skin_type}" if skin_type != "unknown" else "unknown", justify="right")
    table.add_column("total", justify="right", style="bold")
    totals = dict.fromkeys(skin_types, 0)
    for condition, row in counts.items():
        for skin_type in skin_types:
            totals[skin_type] += row.get(skin_type, 0)
        table.add_row(condition, *(str(row.get(t, 0)) for t in skin_types), str(sum(row.values())))
    table.add_row("total", *(str(totals[t]) for t in skin_types), str(sum(totals.values())), style="bold")
    return table
