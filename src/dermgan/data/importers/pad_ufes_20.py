"""PAD-UFES-20: smartphone photos with `metadata.csv` (whose skin-type column is spelled `fitspatrick`)
and images in `imgs_part_{1,2,3}/`."""

from __future__ import annotations

from pathlib import Path

from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext, kept_columns
from dermgan.data.importers.skin_types import skin_type_from_number
from dermgan.data.importers.tables import read_table

LICENSE = "CC BY 4.0 (PAD-UFES-20)"
CSV_NAME = "metadata.csv"
DIAGNOSES = {
    "ACK": "actinic keratosis",
    "BCC": "basal cell carcinoma",
    "MEL": "melanoma",
    "NEV": "melanocytic nevus",
    "SCC": "squamous cell carcinoma",
    "SEK": "seborrheic keratosis",
}
KEPT_COLUMNS = ("patient_id", "region", "diameter_1", "diameter_2", "biopsed")


def condition_from_diagnostic(code: str) -> str:
    if code.upper() not in DIAGNOSES:
        raise ValueError(f"diagnostic {code!r} is none of {', '.join(DIAGNOSES)}")
    return DIAGNOSES[code.upper()]


def read_pad_ufes_20(src: Path, context: ReadContext) -> DatasetListing:
    """One image per row; a case is a lesion (its patient id is kept for stricter, per-patient splits)."""
    csv_path = src if src.is_file() else src / CSV_NAME
    table = read_table(
        csv_path, ["patient_id", "lesion_id", "fitspatrick", "diagnostic", "img_id"], dataset="PAD-UFES-20"
    )
    images = [
        ListedImage(
            name=row["img_id"],
            path=context.search.find(row["img_id"], csv_path.parent),
            condition=table.parse(line, row, "diagnostic", condition_from_diagnostic),
            skin_type=table.parse(line, row, "fitspatrick", skin_type_from_number),
            case_id=row["lesion_id"] or row["patient_id"],
            extra=kept_columns(row, KEPT_COLUMNS),
        )
        for line, row in table
    ]
    return DatasetListing(images=images, license=LICENSE)
