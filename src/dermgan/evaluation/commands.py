"""`dermgan eval ...`: each command calls one evaluation function, prints a table, writes DIR/<name>.json."""

from __future__ import annotations

import typer

eval_app = typer.Typer(
    no_args_is_help=True, help="Evaluate generators: fid, kid, tone, roi, memorisation, ablation."
)
