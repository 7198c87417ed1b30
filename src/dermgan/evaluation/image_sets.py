"""A set of images to evaluate: an image folder, or a manifest (whose rows bring condition, skin type, boxes).

Every `dermgan eval` command takes its REAL and FAKE arguments through here, so a folder of PNGs, a
prepared dataset, a `generate` output and a raw manifest are all accepted the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dermgan.data.manifest import read_manifest
from dermgan.data.splits import read_splits
from dermgan.errors import UserError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class ImageSet:
    """Image paths and, where a manifest gave them, each image's row (condition, skin_type, boxes, ...)."""

    name: str
    paths: list[Path]
    rows: list[dict[str, str]] = field(default_factory=list)
    has_splits: bool = False
    """Whether a split can be taken of it: a manifest with a `split` column or a splits.csv beside it."""

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: list[int], name: str | None = None) -> ImageSet:
        rows = [self.rows[i] for i in indices] if self.rows else []
        return ImageSet(name or self.name, [self.paths[i] for i in indices], rows, self.has_splits)

    def groups(self, keys: list[str]) -> dict[tuple[str, ...], list[int]]:
        """Indices of the images per value of `keys` (e.g. condition, skin_type); needs a manifest."""
        if not self.rows:
            raise UserError(
                f"{self.name} is a folder of images: grouping by {', '.join(keys)} needs a manifest"
            )
        missing = [key for key in keys if key not in self.rows[0]]
        if missing:
            raise UserError(f"{self.name} has no column {', '.join(missing)} to group by")
        grouped: dict[tuple[str, ...], list[int]] = {}
        for index, row in enumerate(self.rows):
            grouped.setdefault(tuple(row[key] or "unknown" for key in keys), []).append(index)
        return dict(sorted(grouped.items()))


def load_image_set(source: str | os.PathLike[str], split: str | None = None) -> ImageSet:
    """A folder (its manifest.csv if it has one, else every image file under it) or a manifest file.

    `split` keeps only the rows of that split when the set comes from a manifest (a prepared folder's
    splits.csv decides over the `split` column).
    """
    path = Path(source)
    if path.is_dir() and (path / "manifest.csv").is_file():
        path = path / "manifest.csv"
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise UserError(f"{source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return ImageSet(str(source), files)
    if not path.is_file():
        raise UserError(f"{source} is neither an image folder nor a manifest")
    table = read_manifest(path)
    case_split = read_splits(path.parent / "splits.csv") if (path.parent / "splits.csv").is_file() else {}
    rows = [
        row
        for row in table.rows
        if split is None or case_split.get(row.get("case_id", ""), row.get("split")) == split
    ]
    if not rows:
        raise UserError(f"{source} has no images" + (f" in split {split!r}" if split else ""))
    has_splits = bool(case_split) or any(row.get("split") for row in table.rows)
    return ImageSet(str(source), [table.base_dir / row["image"] for row in rows], rows, has_splits)
