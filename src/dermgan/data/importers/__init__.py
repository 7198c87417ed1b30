"""Importers: each public dataset layout (and any COCO annotation file) becomes one manifest,
OUT/manifest.csv, with the images hard-linked or copied under OUT/images/."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from dermgan.data.importers.boxes import WHOLE_IMAGE
from dermgan.data.importers.coco import read_coco_dataset
from dermgan.data.importers.dataset import Reader
from dermgan.data.importers.ddi import read_ddi
from dermgan.data.importers.fitzpatrick17k import read_fitzpatrick17k
from dermgan.data.importers.isic import read_isic
from dermgan.data.importers.manifest import read_manifest_dataset
from dermgan.data.importers.pad_ufes_20 import read_pad_ufes_20
from dermgan.data.importers.run import run_import
from dermgan.data.importers.scin import read_scin
from dermgan.data.importers.summary import ImportSummary, Skipped
from dermgan.errors import UserError

READERS: dict[str, Reader] = {
    "coco": read_coco_dataset,
    "isic": read_isic,
    "fitzpatrick17k": read_fitzpatrick17k,
    "scin": read_scin,
    "pad-ufes-20": read_pad_ufes_20,
    "ddi": read_ddi,
    "manifest": read_manifest_dataset,
}

# Each takes (src, out, *, boxes=None, skin_types=None, link=True, progress=True).
IMPORTERS: dict[str, Callable[..., ImportSummary]] = {
    name: partial(run_import, name, reader) for name, reader in READERS.items()
}


def import_dataset(
    format: str,
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    boxes: str | os.PathLike[str] | None = None,
    skin_types: str | os.PathLike[str] | None = None,
    link: bool = True,
    progress: bool = True,
) -> ImportSummary:
    """Imports the dataset at src (a folder or metadata file of `format`) into out/manifest.csv.

    boxes: None keeps the dataset's own boxes (ISIC masks, COCO), "whole-image" gives every image
    without boxes one box covering it, a path to a COCO JSON joins its boxes by image file name.
    skin_types: a CSV (file_name or image, skin_type) overriding the dataset's skin types.
    link: hard-link the images where the filesystem allows (else copy).
    """
    if format not in IMPORTERS:
        raise UserError(f"unknown dataset format {format!r}; choose one of {', '.join(IMPORTERS)}")
    return IMPORTERS[format](src, out, boxes=boxes, skin_types=skin_types, link=link, progress=progress)


__all__ = ["IMPORTERS", "WHOLE_IMAGE", "ImportSummary", "Skipped", "import_dataset"]
