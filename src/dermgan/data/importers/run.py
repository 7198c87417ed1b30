"""One import, whatever the format: read the dataset, apply the boxes and skin-type options, place the
images, and write the manifest last, so that a failure never leaves a half-written manifest behind."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TypeVar

from tqdm import tqdm

from dermgan.conditions import skin_type_sort_key
from dermgan.data.images import ImageError
from dermgan.data.importers.boxes import WHOLE_IMAGE, boxes_by_file_name, whole_image_box
from dermgan.data.importers.dataset import ListedImage, ReadContext, Reader
from dermgan.data.importers.locate import FileSearch, file_key
from dermgan.data.importers.placement import IMAGES_FOLDER, place_image, relative_names
from dermgan.data.importers.skin_types import read_skin_types
from dermgan.data.importers.summary import ImportSummary, Skipped
from dermgan.data.manifest import Box, format_boxes, write_manifest
from dermgan.errors import UserError
from dermgan.files import write_json

MANIFEST_NAME = "manifest.csv"
UNKNOWN_KEY = "unknown"
Joined = TypeVar("Joined")


def _check_paths(format: str, src: Path, out: Path) -> None:
    if not src.exists():
        raise UserError(f"{src} does not exist; give the {format} dataset's folder or metadata file as SRC")
    if out.exists() and not out.is_dir():
        raise UserError(f"output {out} is a file; give a folder for the manifest and images")
    manifest = out / MANIFEST_NAME
    if src.is_file() and manifest.exists() and manifest.samefile(src):
        raise UserError(f"importing {src} into its own folder would overwrite it; give another output folder")


def _join_by_file_name(
    images: list[ListedImage], values: Mapping[str, Joined], assign: Callable[[ListedImage, Joined], None]
) -> int:
    """Assigns each image the value filed under its file name; returns how many values matched none."""
    matched = set()
    for image in images:
        key = file_key(image.name)
        if key in values:
            assign(image, values[key])
            matched.add(key)
    return len(values) - len(matched)


def _set_skin_type(image: ListedImage, skin_type: str) -> None:
    image.skin_type = skin_type


def _set_boxes(image: ListedImage, boxes: tuple[Box, ...]) -> None:
    image.boxes = boxes


def _add_whole_image_boxes(
    images: list[ListedImage], progress: bool
) -> tuple[list[ListedImage], list[Skipped]]:
    """Gives each image without boxes one box covering it; an unreadable image is skipped."""
    kept, skipped = [], []
    for image in tqdm(images, desc="image sizes", unit="img", disable=not progress, leave=False):
        if not image.boxes:
            try:
                image.boxes = (whole_image_box(image.path),)
            except ImageError as error:
                skipped.append(Skipped(item=image.name, reason=f"image {error}"))
                continue
        kept.append(image)
    return kept, skipped


def _manifest_row(image: ListedImage, name: PurePosixPath, format: str, license: str) -> dict[str, str]:
    """The manifest row of a placed image; the image's extra columns win, so a manifest passes through."""
    return {
        "image": f"{IMAGES_FOLDER}/{name}",
        "condition": image.condition,
        "skin_type": image.skin_type,
        "boxes": format_boxes(image.boxes),
        "case_id": image.case_id,
        "split": "",
        "source": "real",
        "dataset": format,
        "license": license,
        **image.extra,
    }


def _place_images(
    images: list[ListedImage], out: Path, format: str, license: str, *, link: bool, progress: bool
) -> list[dict[str, str]]:
    """Links or copies each image under out/images and returns its manifest row."""
    names = relative_names(image.path for image in images)
    rows = []
    for image in tqdm(images, desc="images", unit="img", disable=not progress, leave=False):
        place_image(image.path, out / IMAGES_FOLDER / names[image.path], link=link)
        rows.append(_manifest_row(image, names[image.path], format, license))
    return rows


def _counts(images: list[ListedImage]) -> tuple[dict[str, int], dict[str, int]]:
    """Images per condition (most common first) and per skin type (lightest first, unknown last)."""
    labels = Counter(image.condition for image in images)
    types = Counter(image.skin_type for image in images)
    return (
        dict(sorted(labels.items(), key=lambda item: (-item[1], item[0]))),
        {key or UNKNOWN_KEY: types[key] for key in sorted(types, key=skin_type_sort_key)},
    )


def _sort_out(images: list[ListedImage], src: Path) -> tuple[list[ListedImage], list[Skipped], int]:
    """The images that can be imported, and why the others cannot: no condition, or no file in SRC."""
    found, skipped, n_missing = [], [], 0
    searched = src if src.is_dir() else src.parent
    for image in images:
        if not image.condition:
            skipped.append(Skipped(item=image.name, reason="no condition label"))
        elif image.path is None:
            skipped.append(Skipped(item=image.name, reason=f"image file not found under {searched}"))
            n_missing += 1
        else:
            found.append(image)
    return found, skipped, n_missing


def run_import(
    format: str,
    reader: Reader,
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    boxes: str | os.PathLike[str] | None = None,
    skin_types: str | os.PathLike[str] | None = None,
    link: bool = True,
    progress: bool = True,
) -> ImportSummary:
    """Imports the dataset at src with `reader` into out/manifest.csv and out/images/."""
    src, out = Path(src), Path(out)
    _check_paths(format, src, out)
    joined_boxes = boxes_by_file_name(boxes) if boxes not in (None, WHOLE_IMAGE) else {}
    skin_type_by_name = read_skin_types(Path(skin_types)) if skin_types is not None else {}
    listing = reader(src, ReadContext(search=FileSearch(exclude=out), progress=progress))
    warnings = list(listing.warnings)
    if unmatched := _join_by_file_name(listing.images, skin_type_by_name, _set_skin_type):
        warnings.append(f"{unmatched} file names in {skin_types} match no image of the dataset")
    found, skipped, n_missing = _sort_out(listing.images, src)
    if n_missing and not found:
        warnings.append(
            f"none of the {n_missing} images listed was found; download them under {src} "
            "first (the label and skin-type counts cover the metadata alone)"
        )
    if unmatched := _join_by_file_name(found, joined_boxes, _set_boxes):
        warnings.append(f"{unmatched} annotated images in {boxes} match no imported image")
    if boxes == WHOLE_IMAGE:
        found, unreadable = _add_whole_image_boxes(found, progress)
        skipped += unreadable
    rows = _place_images(found, out, format, listing.license, link=link, progress=progress)
    manifest = write_manifest(out / MANIFEST_NAME, rows)
    labelled = [image for image in listing.images if image.condition]
    label_counts, skin_type_counts = _counts(labelled)
    licenses = sorted({image.extra.get("license", listing.license) for image in labelled} - {""})
    summary = ImportSummary(
        format=format,
        manifest=manifest,
        n_listed=len(labelled),
        n_images=len(rows),
        n_without_boxes=sum(1 for row in rows if not row["boxes"]),
        n_missing_files=n_missing,
        skipped=[*listing.skipped, *skipped],
        label_counts=label_counts,
        skin_type_counts=skin_type_counts,
        license="; ".join(licenses) or listing.license,
        warnings=warnings,
    )
    write_json(out / "import.json", summary.model_dump(mode="json"))
    return summary
