"""What part of a photo the classifier sees: the whole photo, or a square around its main lesion.

`roi` frames the photo's largest group of adjacent ROI boxes (by box area; groups as `data prepare` forms
them) as `data prepare` frames a group: a square `1 + margin` times the group's longer side, at least a
fifth of the photo's shorter side, inside the photo; with a fixed margin instead of a random one, and
centred, so that each photo has one input. A square around all boxes of a photo with lesions far apart
shows each of them small (test top-1 0.945 instead of 0.970 on the phantom; see the README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dermgan.data.boxes import group_boxes, union_box
from dermgan.data.crop import CropSettings
from dermgan.data.manifest import Box

MIN_FRACTION = CropSettings().min_window_fraction
GROUP_GAP = CropSettings().group_gap


@dataclass(frozen=True)
class Framing:
    input: Literal["photo", "roi"] = "photo"
    margin: float = 0.9


def _area(boxes: Sequence[Box]) -> float:
    return sum((box[2] - box[0]) * (box[3] - box[1]) for box in boxes)


def roi_window(boxes: Sequence[Box], width: int, height: int, margin: float) -> Box:
    """The square (x0, y0, x1, y1) centred on the largest group of boxes; the whole photo without boxes."""
    if not boxes:
        return (0.0, 0.0, float(width), float(height))
    x0, y0, x1, y1 = union_box(max(group_boxes(boxes, GROUP_GAP), key=_area))  # the first of equals
    short = min(width, height)
    side = min(max(max(x1 - x0, y1 - y0) * (1 + margin), MIN_FRACTION * short), short)
    left = min(max((x0 + x1 - side) / 2, 0.0), width - side)
    top = min(max((y0 + y1 - side) / 2, 0.0), height - side)
    return (left, top, left + side, top + side)
