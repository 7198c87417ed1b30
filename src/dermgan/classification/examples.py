"""Labelled photos for the classifier: manifest rows with their case split resolved.

The split of a case comes from a splits.csv (`--splits`, or the one beside the manifest), else from the
manifest's own `split` column, so the classifier is tested on the test cases of `data prepare`'s split
and a classifier run keeps that split in its run directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dermgan.data.manifest import Box
from dermgan.data.splits import read_splits, splits_path
from dermgan.data.validate import load_records
from dermgan.errors import UserError


@dataclass(frozen=True)
class Example:
    path: Path
    condition: str
    skin_type: str
    case_id: str
    split: str
    source: str
    row: int
    manifest: Path
    extra: Mapping[str, str] = field(default_factory=dict)
    boxes: tuple[Box, ...] = ()

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    def where(self) -> str:
        """How a message names the row: manifest, row number and image."""
        return f"{self.manifest} row {self.row} ({self.path.name})"


def read_case_splits(
    manifest: str | os.PathLike[str], splits: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """case_id -> split from `splits` (a splits.csv or a prepared folder), else the splits.csv beside the
    manifest; empty when there is neither (the manifest's `split` column then decides)."""
    if splits is not None:
        path = Path(splits)
        return read_splits(splits_path(path) if path.is_dir() else path)
    beside = Path(manifest).parent / "splits.csv"
    return read_splits(beside) if beside.is_file() else {}


def require_real(examples: Sequence[Example]) -> None:
    """A --data manifest gives the classes and test cases, so one of synthetic images only is a mix-up."""
    if examples and all(example.synthetic for example in examples):
        raise UserError(
            f"{examples[0].manifest} holds only synthetic images: --data takes the real manifest (its "
            "classes and test cases come from there); give the manifest of `dermgan generate` with --extra"
        )


def read_examples(
    manifest: str | os.PathLike[str], case_splits: Mapping[str, str], *, progress: bool = True
) -> list[Example]:
    """Every usable row of a manifest (UserError listing bad rows), split by `case_splits` first."""
    report, records = load_records(manifest, check_image_files=False, progress=progress)
    base_dir = Path(report.manifest).parent
    return [
        Example(
            path=record.resolve(base_dir),
            condition=record.condition,
            skin_type=record.skin_type,
            case_id=record.case_id,
            split=case_splits.get(record.case_id, record.split),
            source=record.source,
            row=record.row,
            manifest=Path(manifest),
            extra=record.extra,
            boxes=record.boxes,
        )
        for record in records
    ]
