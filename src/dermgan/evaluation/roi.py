"""Lesions inside the boxes, nothing at the box edges: ROI contrast and the box-edge artifact score.

ROI contrast: the mean CIELAB delta-E (CIE76, the Euclidean distance in L*a*b*) of the ROI pixels from the
healthy-skin median (skin-coloured pixels outside the boxes), over the same mean for the pixels outside
the boxes. A lesion that stands out scores well above 1; a box with no lesion in it about 1.

Box-edge score: box-shaped maps teach generators faint square halos along the box outlines, which real
photos do not have. The score is the median gradient energy (squared central differences summed over
L*, a*, b*) on the two pixel rows straddling the ROI outline, over its median in the bands 3 to 6 px
inside and outside it. Medians, not means: a round lesion's edge meets the outline and the bands in a few
places, a halo runs along the whole outline. Real photos with loose boxes score about 1; where boxes are
tight around small lesions (boxes from masks, the phantom's nevi) the lesion's own edge lies on the
outline and real scores rise too. So read a synthetic set's score against the real set's, per condition.

Lesion morphology (components per box, border irregularity) is measured on the same delta-E map; see
`dermgan.evaluation.morphology`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from rich.table import Table
from scipy.ndimage import distance_transform_edt
from tqdm import tqdm

from dermgan.data.boxes import boxes_mask
from dermgan.data.images import ImageError, load_rgb
from dermgan.data.manifest import Box, parse_boxes
from dermgan.data.skin import skin_mask, to_lab
from dermgan.errors import UserError
from dermgan.evaluation.image_sets import ImageSet, load_image_set
from dermgan.evaluation.morphology import (
    MORPHOLOGY_NOTE,
    LesionShape,
    MorphologyGroup,
    Spread,
    measure_shapes,
    summarise_shapes,
)
from dermgan.files import write_json

OUTLINE_DISTANCE = 1.0
"""Pixels this close to the outline (on either side) are the outline: the two rows a step edge lights up."""
BAND_GAP, BAND_WIDTH = 3.0, 4.0
"""The comparison bands start 3 px from the outline on each side and are 4 px wide (3 to 6 px)."""
VISIBLE_DELTA_E = 0.5
"""Colour differences (per pixel, for gradients) below this are invisible: the floor of a ratio's
denominator, so a flat band or flat skin does not turn an invisible ripple into a huge score."""
ALL_CONDITIONS = "all"

ROI_NOTE = (
    "ROI contrast = mean delta-E of ROI pixels from the healthy-skin median over the same outside the "
    "boxes (above 1: the lesion stands out). Edge score = median gradient energy on the box outline over "
    "that 3-6 px inside and outside it; read it against the real set's for the same condition (tight boxes "
    "on small lesions raise real scores too): above the real score means square halos at the box edges."
)


def load_evaluation_sets(
    sources: Sequence[str | os.PathLike[str] | ImageSet], split: str | None = None
) -> list[ImageSet]:
    """The sets to compare. `split` keeps that split of each real set that has splits (a prepared folder,
    a manifest with a `split` column), so a held-out split can be scored against another tool's images:
    a set without splits (a plain image folder) and a synthetic set (every row's `source` is synthetic:
    training material by construction) are kept whole, and an ImageSet is taken as its caller chose it.
    A split that no set can take is refused rather than silently ignored."""
    image_sets = [source if isinstance(source, ImageSet) else load_image_set(source) for source in sources]
    if split is None:
        return image_sets
    takes_split = [
        not isinstance(source, ImageSet) and image_set.has_splits and set_kind(image_set) != "synthetic"
        for source, image_set in zip(sources, image_sets, strict=True)
    ]
    if not any(takes_split) and not any(isinstance(source, ImageSet) for source in sources):
        raise UserError(
            f"--split {split}: no set here has splits ({'; '.join(map(_kept_whole_because, image_sets))}); "
            "give a prepared folder or a manifest with a split column, or leave out --split"
        )
    return [
        _held_split(source, split) if takes else image_set
        for source, image_set, takes in zip(sources, image_sets, takes_split, strict=True)
    ]


def _kept_whole_because(image_set: ImageSet) -> str:
    if set_kind(image_set) == "synthetic":
        return f"{image_set.name} is synthetic, kept whole"
    if not image_set.rows:
        return f"{image_set.name} is a plain image folder"
    return f"{image_set.name} is a manifest with no split column and no splits.csv"


def _held_split(source: str | os.PathLike[str], split: str) -> ImageSet:
    """That split of a manifest; synthetic rows in a held-out split are refused: measuring a generator
    against its own kind proves nothing."""
    kept = load_image_set(source, split)
    synthetic = [
        Path(path).name
        for path, row in zip(kept.paths, kept.rows, strict=True)
        if row.get("source") == "synthetic"
    ]
    if synthetic and split != "train":
        raise UserError(
            f"{source}: {len(synthetic)} synthetic image(s) in the {split} split ({', '.join(synthetic[:5])}"
            f"{', ...' if len(synthetic) > 5 else ''}); held-out splits must hold real images only"
        )
    return kept


def set_kind(image_set: ImageSet) -> str | None:
    """ "real" or "synthetic" when every row says so in its `source` column, else None."""
    kinds = {row.get("source", "") for row in image_set.rows}
    return kinds.pop() if len(kinds) == 1 and kinds <= {"real", "synthetic"} else None


def set_labels(image_sets: Sequence[ImageSet]) -> list[str]:
    """Short names for table columns: real / synthetic where that tells the sets apart, else folder names."""
    labels = [set_kind(image_set) or "" for image_set in image_sets]
    if "" in labels or len(set(labels)) < len(labels):
        return [_folder_name(image_set.name) for image_set in image_sets]
    return labels


def _folder_name(source: str) -> str:
    path = Path(source)
    return path.parent.name if path.suffix else path.name


def image_and_roi(image_set: ImageSet, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The image (HxWx3 uint8) and its ROI mask from the row's boxes (all False without boxes)."""
    rgb, boxes = image_and_boxes(image_set, index)
    return rgb, boxes_mask(boxes, rgb.shape[1], rgb.shape[0])


def image_and_boxes(image_set: ImageSet, index: int) -> tuple[np.ndarray, tuple[Box, ...]]:
    """The image (HxWx3 uint8) and the row's boxes (none without a boxes column)."""
    path = image_set.paths[index]
    try:
        rgb = np.asarray(load_rgb(path))
    except ImageError as error:
        raise UserError(f"{path} {error}") from None
    text = image_set.rows[index].get("boxes", "") if image_set.rows else ""
    try:
        boxes = parse_boxes(text)
    except ValueError as error:
        raise UserError(f"{image_set.name}, row {index + 1} ({path.name}): boxes {error}") from None
    return rgb, boxes


def box_edge_score(lab: np.ndarray, roi: np.ndarray) -> float | None:
    """Gradient energy on the ROI outline over the energy in the bands beside it; None without an outline."""
    if not roi.any() or roi.all():
        return None
    energy = sum(np.square(gradient) for channel in range(3) for gradient in np.gradient(lab[..., channel]))
    inside, outside = distance_transform_edt(roi), distance_transform_edt(~roi)
    outline = (inside == OUTLINE_DISTANCE) | (outside == OUTLINE_DISTANCE)
    bands = np.zeros_like(roi)
    for distance in (inside, outside):
        bands |= (distance >= BAND_GAP) & (distance < BAND_GAP + BAND_WIDTH)
    if not bands.any():
        return None
    return float(np.median(energy[outline]) / max(float(np.median(energy[bands])), VISIBLE_DELTA_E**2))


@dataclass(frozen=True)
class RoiMeasure:
    """One image: mean delta-E from healthy skin inside and outside the ROI (None without skin outside
    it), the box-edge score and the lesion shape in each box (none without skin outside the ROI)."""

    delta_e_inside: float | None
    delta_e_outside: float | None
    edge_score: float | None
    shapes: tuple[LesionShape, ...] = ()

    @property
    def contrast(self) -> float | None:
        if self.delta_e_inside is None or self.delta_e_outside is None:
            return None
        return self.delta_e_inside / max(self.delta_e_outside, VISIBLE_DELTA_E)


def measure_roi(rgb: np.ndarray, roi: np.ndarray, boxes: Sequence[Box] = ()) -> RoiMeasure | None:
    """ROI contrast parts, box-edge score and the lesion shape in each of `boxes` (those making `roi`) of
    one image; None when it has no ROI or nothing outside."""
    if not roi.any() or roi.all():
        return None
    lab = to_lab(rgb)
    healthy = skin_mask(lab) & ~roi
    edge_score = box_edge_score(lab, roi)
    if not healthy.any():
        return RoiMeasure(None, None, edge_score)
    delta_e = np.linalg.norm(lab - np.median(lab[healthy], axis=0), axis=-1)
    return RoiMeasure(
        float(delta_e[roi].mean()), float(delta_e[~roi].mean()), edge_score, measure_shapes(delta_e, boxes)
    )


class RoiGroup(BaseModel):
    """The images of one condition (or all): medians of the per-image ratios, means of the delta-Es."""

    condition: str
    n_images: int
    n_scored: int
    """Images with a ROI and healthy skin outside it (the contrast's count)."""
    contrast: float | None
    delta_e_inside: float | None
    delta_e_outside: float | None
    edge_score: float | None
    morphology: MorphologyGroup
    """Lesion components per box and border irregularity, over the boxes of the scored images."""


class RoiSet(BaseModel):
    name: str
    label: str
    overall: RoiGroup
    by_condition: list[RoiGroup]


class RoiReport(BaseModel):
    note: str = ROI_NOTE
    morphology_note: str = MORPHOLOGY_NOTE
    sets: list[RoiSet]


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.median(present)) if present else None


def _mean(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.mean(present)) if present else None


def summarise_roi(condition: str, measures: Sequence[RoiMeasure | None]) -> RoiGroup:
    scored = [measure for measure in measures if measure is not None]
    return RoiGroup(
        condition=condition,
        n_images=len(measures),
        n_scored=sum(measure.contrast is not None for measure in scored),
        contrast=_median([measure.contrast for measure in scored]),
        delta_e_inside=_mean([measure.delta_e_inside for measure in scored]),
        delta_e_outside=_mean([measure.delta_e_outside for measure in scored]),
        edge_score=_median([measure.edge_score for measure in scored]),
        morphology=summarise_shapes([shape for measure in scored for shape in measure.shapes]),
    )


def measure_set(image_set: ImageSet, label: str, progress: bool = True) -> RoiSet:
    """Every image's ROI measures, summarised per condition and overall."""
    if not image_set.rows or "boxes" not in image_set.rows[0]:
        raise UserError(
            f"{image_set.name} has no boxes: ROI contrast needs a manifest with a boxes column "
            "(a prepared folder, a generate output or a manifest file)"
        )
    indices = tqdm(
        range(len(image_set)), desc=f"roi {label}", unit="image", leave=False, disable=not progress
    )
    measures = [_measure_image(*image_and_boxes(image_set, index)) for index in indices]
    by_condition = [
        summarise_roi(condition, [measures[index] for index in group])
        for (condition,), group in image_set.groups(["condition"]).items()
    ]
    return RoiSet(
        name=image_set.name,
        label=label,
        overall=summarise_roi(ALL_CONDITIONS, measures),
        by_condition=by_condition,
    )


def _measure_image(rgb: np.ndarray, boxes: tuple[Box, ...]) -> RoiMeasure | None:
    return measure_roi(rgb, boxes_mask(boxes, rgb.shape[1], rgb.shape[0]), boxes)


def evaluate_roi(
    data: str | os.PathLike[str],
    data2: str | os.PathLike[str] | None = None,
    *,
    out: str | os.PathLike[str],
    split: str | None = None,
    progress: bool = True,
) -> RoiReport:
    """ROI contrast, box-edge score and lesion morphology of one set, or of two side by side; writes
    OUT/roi.json."""
    image_sets = load_evaluation_sets([source for source in (data, data2) if source is not None], split)
    labels = set_labels(image_sets)
    report = RoiReport(
        sets=[
            measure_set(image_set, label, progress)
            for image_set, label in zip(image_sets, labels, strict=True)
        ]
    )
    write_json(Path(out) / "roi.json", report.model_dump(mode="json"))
    return report


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def roi_table(report: RoiReport) -> Table:
    """Rows = conditions (then all), and per set: images scored, ROI contrast, delta-E in/out, edge score."""
    columns = {
        "scored/n": lambda group: f"{group.n_scored}/{group.n_images}",
        "ROI contrast": lambda group: _number(group.contrast),
        "delta-E in/out": lambda group: (
            f"{_number(group.delta_e_inside, 1)}/{_number(group.delta_e_outside, 1)}"
        ),
        "edge score": lambda group: _number(group.edge_score),
    }
    return _per_condition_table(report, "lesion contrast and box-edge artifacts per condition", columns)


def _per_condition_table(
    report: RoiReport, title: str, columns: dict[str, Callable[[RoiGroup], str]]
) -> Table:
    """One row per condition (then all, in bold), and each column of `columns` once per set; a set with no
    crops of a condition shows 0 in its first column and - in the others."""
    table = Table(title=title, title_justify="left")
    table.add_column("condition")
    for roi_set in report.sets:
        for name in columns:
            table.add_column(f"{roi_set.label}\n{name}", justify="right")
    for condition, groups in _table_rows(report):
        cells = []
        for group in groups:
            if group is None:
                cells += ["0", *["-"] * (len(columns) - 1)]
            else:
                cells += [cell(group) for cell in columns.values()]
        table.add_row(condition, *cells, style="bold" if condition == ALL_CONDITIONS else None)
    return table


def _table_rows(report: RoiReport) -> list[tuple[str, list[RoiGroup | None]]]:
    """Every condition (sorted, then all) with each set's group for it (None where a set has none)."""
    conditions = sorted({group.condition for roi_set in report.sets for group in roi_set.by_condition})
    lookups = [
        {group.condition: group for group in roi_set.by_condition} | {ALL_CONDITIONS: roi_set.overall}
        for roi_set in report.sets
    ]
    return [
        (condition, [lookup.get(condition) for lookup in lookups])
        for condition in [*conditions, ALL_CONDITIONS]
    ]


def _spread(value: Spread | None, digits: int) -> str:
    return "-" if value is None else f"{value.mean:.{digits}f} ± {value.sd:.{digits}f}"


def morphology_table(report: RoiReport) -> Table:
    """Rows = conditions (then all), and per set: boxes, components per box, border irregularity."""
    columns = {
        "boxes": lambda group: str(group.morphology.n_boxes),
        "components": lambda group: _spread(group.morphology.components, 1),
        "irregularity": lambda group: _spread(group.morphology.irregularity, 2),
    }
    return _per_condition_table(report, "lesion morphology per box and condition", columns)
