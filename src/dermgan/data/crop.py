"""The paper's crop heuristic: random square windows around a group of adjacent ROIs, on skin.

Each window contains a whole group (when the photo allows), with a random margin and offset, and is
kept only if most of its healthy part is skin, so walls and clothing stay out of the training pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dermgan.data.boxes import boxes_mask, group_boxes, union_box
from dermgan.data.manifest import Box


@dataclass(frozen=True)
class CropSettings:
    """Every knob of the heuristic; the defaults are what `data prepare` uses."""

    size: int = 256
    crops_per_group: int = 1
    min_skin: float = 0.5
    margin: tuple[float, float] = (0.3, 1.5)
    min_window_fraction: float = 0.2
    group_gap: float = 0.5
    attempts: int = 20


def _window_side(
    group: Box, width: int, height: int, settings: CropSettings, rng: np.random.Generator
) -> float:
    short = min(width, height)
    extent = max(group[2] - group[0], group[3] - group[1])
    side = extent * (1 + rng.uniform(*settings.margin))
    return float(min(max(side, settings.min_window_fraction * short), short))


def _window_start(low: float, high: float, side: float, limit: int, rng: np.random.Generator) -> float:
    """A start in [high - side, low] (the group inside), within [0, limit - side]; centred if impossible."""
    first, last = max(0.0, high - side), min(low, limit - side)
    if first > last:
        return float(np.clip((low + high - side) / 2, 0, limit - side))
    return float(rng.uniform(first, last))


def _skin_fraction(skin: np.ndarray, roi: np.ndarray, window: Box) -> float:
    x0, y0, x1, y1 = (round(v) for v in window)
    healthy = ~roi[y0:y1, x0:x1]
    if not healthy.any():
        return 1.0
    return float(skin[y0:y1, x0:x1][healthy].mean())


def plan_windows(
    skin: np.ndarray, boxes: Sequence[Box], settings: CropSettings, rng: np.random.Generator
) -> tuple[list[Box], int]:
    """Square windows (x0, y0, x1, y1) for every ROI group x crops_per_group, and how many were refused.

    `skin` is the photo's boolean skin mask; a window is refused when no attempt finds enough skin.
    """
    height, width = skin.shape
    roi = boxes_mask(boxes, width, height)
    windows, refused = [], 0
    for group in group_boxes(boxes, settings.group_gap):
        union = union_box(group)
        for _ in range(settings.crops_per_group):
            for _ in range(settings.attempts):
                side = _window_side(union, width, height, settings, rng)
                x0 = _window_start(union[0], union[2], side, width, rng)
                y0 = _window_start(union[1], union[3], side, height, rng)
                window = (x0, y0, x0 + side, y0 + side)
                if _skin_fraction(skin, roi, window) >= settings.min_skin:
                    windows.append(window)
                    break
            else:
                refused += 1
    return windows, refused
