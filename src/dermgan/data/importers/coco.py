"""COCO detection files from any annotation tool: each image's condition is the category of its boxes,
its skin type and case an attribute of the image entry."""

from __future__ import annotations

from pathlib import Path

from dermgan.data.importers.coco_file import CocoImage, read_coco
from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext
from dermgan.data.importers.locate import file_key, first_existing
from dermgan.data.importers.skin_types import skin_type_from_number
from dermgan.data.importers.summary import Skipped
from dermgan.data.manifest import Box, is_outside
from dermgan.errors import UserError

LICENSE = ""  # unless an image points to an entry of the file's `licenses` list
SKIN_TYPE_KEYS = ("skin_type", "fitzpatrick")
OUTSIDE_REASON = "points outside the COCO file's folder (an absolute or ../ path)"


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def main_category(boxes: dict[str, list[Box]]) -> str:
    """The category covering the largest total box area; ties go to the alphabetically first."""
    return min(boxes, key=lambda name: (-sum(_area(box) for box in boxes[name]), name))


def _image_path(folder: Path, file_name: str) -> Path | None:
    """file_name relative to the JSON's folder, or to images/ beside it (tools differ)."""
    return first_existing(
        [folder / file_name, folder / "images" / file_name, folder / "images" / file_key(file_name)]
    )


def _skin_type(image: CocoImage, path: Path) -> str:
    try:
        return skin_type_from_number(image.attribute(*SKIN_TYPE_KEYS))
    except UserError as error:
        raise UserError(f"{path}: image {image.file_name}: {error}") from None


def read_coco_dataset(src: Path, context: ReadContext) -> DatasetListing:
    """One row per annotated image; boxes of other categories than the main one are dropped and counted."""
    if src.is_dir():
        raise UserError(f"{src} is a folder; give the COCO JSON file itself")
    coco = read_coco(src)
    images, skipped, dropped, conflicted, outside = [], [], 0, 0, []
    for image in coco.images:
        if is_outside(image.file_name):
            outside.append(image.file_name)
            skipped.append(Skipped(item=image.file_name, reason=OUTSIDE_REASON))
            continue
        if not image.boxes:
            skipped.append(Skipped(item=image.file_name, reason="no usable box, so no condition"))
            continue
        condition = main_category(image.boxes)
        others = sum(len(boxes) for name, boxes in image.boxes.items() if name != condition)
        conflicted, dropped = conflicted + bool(others), dropped + others
        images.append(
            ListedImage(
                name=image.file_name,
                path=_image_path(src.parent, image.file_name),
                condition=condition,
                skin_type=_skin_type(image, src),
                case_id=image.attribute("case_id") or Path(file_key(image.file_name)).stem,
                boxes=tuple(image.boxes[condition]),
                extra={"license": image.license} if image.license else {},
            )
        )
    warnings = []
    if outside:
        warnings.append(
            f"{len(outside)} images were skipped because their file_name {OUTSIDE_REASON} "
            f"(e.g. {outside[0]!r}): keep the photos in the COCO file's folder and name them relative to it"
        )
    if conflicted:
        warnings.append(
            f"{conflicted} images had boxes of several categories: each kept the category with the largest "
            f"total box area, and {dropped} boxes of other categories were dropped"
        )
    if coco.n_unusable_boxes:
        warnings.append(
            f"{coco.n_unusable_boxes} annotations had no usable bbox (empty or outside the image)"
        )
    return DatasetListing(images=images, license=LICENSE, skipped=skipped, warnings=warnings)
