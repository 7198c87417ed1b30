"""What an import did, as a pydantic model: the CLI prints it and writes it as JSON."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, computed_field


class Skipped(BaseModel):
    """A row of the dataset that did not make it into the manifest, and why."""

    item: str
    reason: str


class ImportSummary(BaseModel):
    """Counts of one import. label_counts and skin_type_counts cover every labelled row of the
    dataset's metadata, found or not, so a metadata file alone (no images yet) can be checked."""

    format: str
    manifest: Path
    n_listed: int
    n_images: int
    n_without_boxes: int
    n_missing_files: int
    skipped: list[Skipped]
    label_counts: dict[str, int]
    skin_type_counts: dict[str, int]
    license: str
    warnings: list[str]

    @computed_field
    @property
    def n_conditions(self) -> int:
        return len(self.label_counts)
