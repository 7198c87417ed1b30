"""Lesion morphology inside each ROI box: how many separate spots it holds and how irregular its border is.

A generator that paints every lesion as one smooth round blob still scores well on colour and contrast;
these two measures catch it. Acne is a cluster of separate papules, a nevus one round spot, a melanoma
one spot with a notched, irregular border.

Segmentation, per box: a pixel is lesion when its CIELAB delta-E (CIE76) from the healthy-skin median is
above the box's Otsu threshold, clipped to 4-8 (below 4 is skin texture; above 8 every phantom lesion
pixel of at least half opacity is kept, and a plaque under lighter scale does not fall apart where its
colour crosses the skin's); the delta-E map is lightly smoothed first, an opening removes hairs (which
would cut one spot into pieces, or lengthen its border), and holes are filled. Components smaller than
MIN_AREA are texture and noise. Lengths scale with the image side (the constants are for 64 px), so a
lesion measures the same in a 64 px and a 256 px crop.

Components per box: the number of components left. Border irregularity: 1 - 4 pi area / perimeter^2 of
the largest component (perimeter: Crofton estimate), 0 for a disc, higher for notched or elongated shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.measure import perimeter_crofton

from dermgan.data.boxes import boxes_mask
from dermgan.data.manifest import Box

REFERENCE_SIDE = 64
"""The image side (shorter, in px) at which the lengths below hold; they scale with the side."""
SMOOTHING = 0.25
"""Gaussian sigma (px at 64 px) applied to the delta-E map: enough to join a lesion's ragged edge pixels."""
HAIR_WIDTH = 1.0
"""Widest hair (px at 64 px): the opening's square is one pixel wider, so hairs go and spots stay."""
MIN_AREA = 2.0
"""Smallest component (px at 64 px) that counts as a spot."""
DELTA_E_RANGE = (4.0, 8.0)
"""The box's Otsu threshold on delta-E is clipped into this range."""

MORPHOLOGY_NOTE = (
    "Components = separate lesion spots per box (pixels above a per-box delta-E threshold from the healthy "
    "skin, hairs and specks dropped); irregularity = 1 - 4*pi*area/perimeter^2 of the largest one (0 for "
    "a disc). Both are mean ± standard deviation over the boxes; read a synthetic set against the real one."
)


@dataclass(frozen=True)
class LesionShape:
    """One box: its lesion components and the border irregularity of the largest (None without one)."""

    components: int
    irregularity: float | None


def border_irregularity(mask: np.ndarray) -> float:
    """1 - compactness of a boolean shape: 0 for a disc (clipped there, as a small digital disc's
    estimated perimeter can fall just short of the circle's)."""
    perimeter = perimeter_crofton(np.pad(mask, 1), directions=4)
    return float(max(0.0, 1.0 - 4.0 * np.pi * mask.sum() / perimeter**2))


def lesion_shape(mask: np.ndarray, scale: float = 1.0) -> LesionShape:
    """The shape of a lesion mask, holes filled, specks under MIN_AREA (x scale^2) left out."""
    labels, count = ndimage.label(ndimage.binary_fill_holes(mask))
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    kept = np.flatnonzero(areas >= MIN_AREA * scale**2)
    if kept.size == 0:
        return LesionShape(0, None)
    largest = labels == kept[areas[kept].argmax()] + 1
    return LesionShape(int(kept.size), border_irregularity(largest))


def image_scale(shape: tuple[int, ...]) -> float:
    """How many pixels of this image make one pixel of the 64 px reference."""
    return min(shape[:2]) / REFERENCE_SIDE


def measure_shapes(delta_e: np.ndarray, boxes: Sequence[Box]) -> tuple[LesionShape, ...]:
    """The lesion shape in every box, from an HxW map of delta-E from the healthy-skin median."""
    scale = image_scale(delta_e.shape)
    smooth = ndimage.gaussian_filter(delta_e, SMOOTHING * scale)
    height, width = delta_e.shape
    opening = np.ones((round(HAIR_WIDTH * scale) + 1,) * 2, dtype=bool)
    shapes = []
    for box in boxes:
        inside = boxes_mask([box], width, height)
        threshold = float(np.clip(threshold_otsu(smooth[inside]), *DELTA_E_RANGE))
        shapes.append(lesion_shape(ndimage.binary_opening((smooth > threshold) & inside, opening), scale))
    return tuple(shapes)


class Spread(BaseModel):
    """Mean and standard deviation of a per-box measure, over the boxes where it is defined."""

    mean: float
    sd: float
    n: int


def spread(values: Sequence[float]) -> Spread | None:
    if not values:
        return None
    return Spread(mean=float(np.mean(values)), sd=float(np.std(values)), n=len(values))


class MorphologyGroup(BaseModel):
    """The boxes of one condition (or all): lesion components per box and border irregularity."""

    n_boxes: int
    components: Spread | None
    irregularity: Spread | None
    """Over the boxes with at least one component."""


def summarise_shapes(shapes: Sequence[LesionShape]) -> MorphologyGroup:
    return MorphologyGroup(
        n_boxes=len(shapes),
        components=spread([shape.components for shape in shapes]),
        irregularity=spread([shape.irregularity for shape in shapes if shape.irregularity is not None]),
    )
