"""SCIN (Skin Condition Image Network): `scin_cases.csv` and `scin_labels.csv` joined on case_id, up
to three photos per case, conditions weighted by the dermatologists who graded the case."""

from __future__ import annotations

import ast
from pathlib import Path

from dermgan.data.importers.dataset import DatasetListing, ListedImage, ReadContext
from dermgan.data.importers.skin_types import fitzpatrick_from_fst, median_skin_type, skin_type_from_number
from dermgan.data.importers.summary import Skipped
from dermgan.data.importers.tables import read_table
from dermgan.errors import UserError

LICENSE = "SCIN Data Use License"
CASES_NAME = "scin_cases.csv"
LABELS_NAME = "scin_labels.csv"
IMAGE_SLOTS = (1, 2, 3)
DERMATOLOGIST_TYPE_COLUMNS = tuple(f"dermatologist_fitzpatrick_skin_type_label_{n}" for n in IMAGE_SLOTS)
MONK_COLUMNS = {"monk_skin_tone_label_us": "monk_tone_us", "monk_skin_tone_label_india": "monk_tone_india"}


def top_condition(weighted: str) -> str:
    """The condition with the highest weight in a dict literal like "{'Eczema': 0.6, ...}"; ties go to
    the alphabetically first name; empty when the case has no label."""
    if not weighted.strip():
        return ""
    try:
        weights = ast.literal_eval(weighted)
    except (ValueError, SyntaxError):
        raise ValueError(f"{weighted!r} is not a dict of condition -> weight") from None
    if not isinstance(weights, dict):
        raise ValueError(f"{weighted!r} is not a dict of condition -> weight")
    return min(weights, key=lambda name: (-float(weights[name]), name), default="")


def case_skin_type(label_row: dict[str, str], self_reported: str) -> str:
    """The dermatologists' median type; the patient's own report only when no dermatologist gave one."""
    graded = [fitzpatrick_from_fst(label_row.get(column, "")) for column in DERMATOLOGIST_TYPE_COLUMNS]
    given = [skin_type for skin_type in graded if skin_type is not None]
    return median_skin_type(given) if given else self_reported


def monk_tones(label_row: dict[str, str]) -> dict[str, str]:
    """Monk tones 1-10 as whole numbers ("3.0" -> "3"), kept beside the Fitzpatrick type."""
    return {new: label_row.get(old, "").removesuffix(".0") for old, new in MONK_COLUMNS.items()}


def _csv_folder(src: Path) -> Path:
    """The folder with the two CSVs: SRC itself or, for a copy of the whole bucket, SRC/dataset."""
    for folder in (src, src / "dataset"):
        if (folder / CASES_NAME).is_file():
            return folder
    raise UserError(f"{src} holds no {CASES_NAME} (nor does {src / 'dataset'}); give the SCIN folder")


def read_scin(src: Path, context: ReadContext) -> DatasetListing:
    """One row per photo; condition and skin type are the case's, case_id is SCIN's."""
    folder = _csv_folder(src)
    cases = read_table(folder / CASES_NAME, ["case_id", "image_1_path"], dataset="SCIN")
    labels = read_table(folder / LABELS_NAME, ["case_id", "weighted_skin_condition_label"], dataset="SCIN")
    label_rows = {row["case_id"]: (line, row) for line, row in labels}
    images, skipped = [], []
    for case_line, case in cases:
        line, label_row = label_rows.get(case["case_id"], (0, {}))
        condition = labels.parse(line, label_row, "weighted_skin_condition_label", top_condition)
        if not condition:
            skipped.append(Skipped(item=f"case {case['case_id']}", reason="no dermatologist condition label"))
            continue
        self_reported = cases.parse(case_line, case, "fitzpatrick_skin_type", skin_type_from_number)
        for slot in IMAGE_SLOTS:
            relative = case.get(f"image_{slot}_path", "")
            if not relative:
                continue
            images.append(
                ListedImage(
                    name=relative,
                    path=context.search.find(relative, src, [src / relative, folder.parent / relative]),
                    condition=condition,
                    skin_type=case_skin_type(label_row, self_reported),
                    case_id=case["case_id"],
                    extra={"shot_type": case.get(f"image_{slot}_shot_type", ""), **monk_tones(label_row)},
                )
            )
    return DatasetListing(images=images, license=LICENSE, skipped=skipped)
