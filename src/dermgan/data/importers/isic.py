"""ISIC 2018 task 1: dermoscopy images `ISIC_<id>.jpg` with lesion masks `ISIC_<id>_segmentation.png`,
in any folders under SRC. Conditions come from an ISIC 2019 ground-truth CSV when one is under SRC."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext
from dermgan.data.importers.tables import Table, read_table
from dermgan.data.manifest import Box
from dermgan.errors import UserError
from dermgan.parallel import parallel_map

LICENSE = "CC BY-NC 4.0 (ISIC)"
IMAGE_NAME = re.compile(r"^(ISIC_\d{7})\.(?:jpe?g|png)$", re.IGNORECASE)
MASK_NAME = re.compile(r"^(ISIC_\d{7})_segmentation\.png$", re.IGNORECASE)
DIAGNOSES = {
    "MEL": "melanoma",
    "NV": "melanocytic nevus",
    "BCC": "basal cell carcinoma",
    "AK": "actinic keratosis",
    "BKL": "benign keratosis",
    "DF": "dermatofibroma",
    "VASC": "vascular lesion",
    "SCC": "squamous cell carcinoma",
    "UNK": "unknown",
}
NO_DIAGNOSIS = "lesion"
# Regions smaller than this fraction of the image are annotation specks, not lesions.
MIN_REGION_FRACTION = 0.001


def mask_boxes(path: Path) -> tuple[Box, ...]:
    """One box per connected region of a 0/255 mask (diagonal neighbours connect), specks left out."""
    try:
        with Image.open(path) as image:
            mask = np.asarray(image.convert("L")) > 127
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"mask {path} cannot be read ({error}); download it again") from None
    regions, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    areas = np.bincount(regions.ravel())
    boxes = []
    for label, (rows, columns) in enumerate(ndimage.find_objects(regions), start=1):
        if areas[label] >= MIN_REGION_FRACTION * mask.size:
            boxes.append((float(columns.start), float(rows.start), float(columns.stop), float(rows.stop)))
    return tuple(boxes)


def _diagnoses(table: Table) -> dict[str, str]:
    """Image id -> readable condition of the one-hot column set; all zeros means no diagnosis."""
    diagnoses = {}
    for line, row in table:
        try:
            scores = {code: float(row[code] or 0) for code in DIAGNOSES}
        except ValueError:
            raise table.error(line, "/".join(DIAGNOSES), "one-hot values must be numbers") from None
        code = max(scores, key=scores.__getitem__)
        diagnoses[row["image"]] = DIAGNOSES[code] if scores[code] > 0 else NO_DIAGNOSIS
    return diagnoses


def _is_ground_truth(path: Path) -> bool:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = {name.strip() for name in handle.readline().split(",")}
    return {"image", "MEL"} <= header


def _scan(src: Path, context: ReadContext) -> tuple[dict[str, Path], dict[str, Path], dict[str, str]]:
    """Images and masks by ISIC id, and diagnoses from every ground-truth CSV, anywhere under src."""
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    diagnoses: dict[str, str] = {}
    for path in context.search.files(src):
        if match := IMAGE_NAME.match(path.name):
            images.setdefault(match.group(1), path)
        elif match := MASK_NAME.match(path.name):
            masks.setdefault(match.group(1), path)
        elif path.suffix.lower() == ".csv" and _is_ground_truth(path):
            table = read_table(path, ["image", *DIAGNOSES], dataset="ISIC 2019 ground truth")
            diagnoses.update(_diagnoses(table))
    return images, masks, diagnoses


def read_isic(src: Path, context: ReadContext) -> DatasetListing:
    """One row per image (or per mask whose image is absent); boxes from its mask; case = the image."""
    if not src.is_dir():
        raise UserError(f"{src} is not a folder; give the folder the ISIC archives were unpacked into")
    images, masks, diagnoses = _scan(src, context)
    if not images and not masks:
        raise UserError(f"{src} holds no ISIC_<7 digits>.jpg images nor _segmentation.png masks")
    paired = sorted(key for key in masks if key in images)
    mask_paths = [masks[key] for key in paired]
    found_boxes = parallel_map(mask_boxes, mask_paths, desc="masks", progress=context.progress)
    boxes = dict(zip(paired, found_boxes, strict=True))
    listed = [
        ListedImage(
            name=images[key].name if key in images else f"{key}.jpg",
            path=images.get(key),
            condition=diagnoses.get(key, NO_DIAGNOSIS),
            case_id=key,
            boxes=boxes.get(key, ()),
        )
        for key in sorted(images.keys() | masks.keys())
    ]
    warnings = (
        [] if diagnoses else [f"no ISIC 2019 ground truth under {src}: every condition is {NO_DIAGNOSIS!r}"]
    )
    return DatasetListing(images=listed, license=LICENSE, warnings=warnings)
