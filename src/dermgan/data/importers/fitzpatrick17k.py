"""Fitzpatrick17k: `fitzpatrick17k.csv` (one row per image, the type -1 when unknown) and the images
`<md5hash>.jpg` that users download themselves, anywhere under the CSV's folder."""

from __future__ import annotations

from pathlib import Path

from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext, kept_columns
from dermgan.data.importers.skin_types import skin_type_from_number
from dermgan.data.importers.tables import read_table
from dermgan.errors import UserError

LICENSE = "CC BY-NC-SA 3.0 (Fitzpatrick17k)"
CSV_NAME = "fitzpatrick17k.csv"
SKIN_TYPE_COLUMNS = ("fitzpatrick_scale", "fitzpatrick")  # old copies use the second name
KEPT_COLUMNS = ("nine_partition_label", "three_partition_label", "qc", "url")


def _csv_path(src: Path) -> Path:
    if src.is_file():
        return src
    if not (src / CSV_NAME).is_file():
        raise UserError(f"{src} holds no {CSV_NAME}; give the folder that holds it, or the CSV itself")
    return src / CSV_NAME


def read_fitzpatrick17k(src: Path, context: ReadContext) -> DatasetListing:
    """One image per CSV row; condition = label, skin type = fitzpatrick_scale, case = the image."""
    table = read_table(_csv_path(src), ["md5hash", "label", SKIN_TYPE_COLUMNS], dataset="Fitzpatrick17k")
    skin_type_column = table.column(SKIN_TYPE_COLUMNS)
    images = []
    for line, row in table:
        name = f"{row['md5hash']}.jpg"
        images.append(
            ListedImage(
                name=name,
                path=context.search.find(name, table.path.parent),
                condition=row["label"],
                skin_type=table.parse(line, row, skin_type_column, skin_type_from_number),
                case_id=row["md5hash"],
                extra=kept_columns(row, KEPT_COLUMNS),
            )
        )
    return DatasetListing(images=images, license=LICENSE)
