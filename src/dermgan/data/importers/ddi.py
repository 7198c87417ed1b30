"""DDI (Diverse Dermatology Images): `ddi_metadata.csv` and its images, skin tone given in pairs of
Fitzpatrick types (12, 34, 56)."""

from __future__ import annotations

from pathlib import Path

from dermgan.conditions import UNKNOWN_SKIN_TYPE
from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext, kept_columns
from dermgan.data.importers.tables import read_table

LICENSE = "DDI Data Use Agreement (Stanford AIMI)"
CSV_NAME = "ddi_metadata.csv"
SKIN_TONES = {"12": "1-2", "34": "3-4", "56": "5-6"}


def skin_type_from_ddi_tone(text: str) -> str:
    """DDI's "12" means Fitzpatrick I-II: the range "1-2"; empty is unknown."""
    tone = text.strip().removesuffix(".0")
    if not tone:
        return UNKNOWN_SKIN_TYPE
    if tone not in SKIN_TONES:
        raise ValueError(f"skin tone {text!r} is none of {', '.join(SKIN_TONES)}")
    return SKIN_TONES[tone]


def read_ddi(src: Path, context: ReadContext) -> DatasetListing:
    """One image per row; condition = disease, the malignant flag kept; each image is its own case."""
    csv_path = src if src.is_file() else src / CSV_NAME
    table = read_table(csv_path, ["DDI_file", "skin_tone", "malignant", "disease"], dataset="DDI")
    images = [
        ListedImage(
            name=row["DDI_file"],
            path=context.search.find(row["DDI_file"], csv_path.parent),
            condition=row["disease"],
            skin_type=table.parse(line, row, "skin_tone", skin_type_from_ddi_tone),
            case_id=Path(row["DDI_file"]).stem,
            extra=kept_columns(row, ["malignant"]),
        )
        for line, row in table
    ]
    return DatasetListing(images=images, license=LICENSE)
