"""ROI boxes [x0, y0, x1, y1] in pixels: grouping, moving them with crops and flips, rasterising."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dermgan.data.manifest import Box


def box_size(box: Box) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


def union_box(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def box_gap(a: Box, b: Box) -> float:
    """Chebyshev gap between two boxes: 0 when they touch or overlap."""
    dx = max(0.0, b[0] - a[2], a[0] - b[2])
    dy = max(0.0, b[1] - a[3], a[1] - b[3])
    return max(dx, dy)


def group_boxes(boxes: Sequence[Box], gap_ratio: float = 0.5) -> list[list[Box]]:
    """Groups adjacent ROIs: two boxes join when their gap is at most gap_ratio x their mean size."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            scale = (max(box_size(a)) + max(box_size(b))) / 2
            if box_gap(a, b) <= gap_ratio * scale:
                parent[root(j)] = root(i)
    groups: dict[int, list[Box]] = {}
    for i, box in enumerate(boxes):
        groups.setdefault(root(i), []).append(box)
    return list(groups.values())


def crop_boxes(boxes: Sequence[Box], window: Box, size: int, min_side: float = 1.0) -> list[Box]:
    """Boxes seen through a square crop `window` resized to size x size; slivers under min_side px go."""
    x0, y0, x1, y1 = window
    scale = size / (x1 - x0)
    moved = []
    for box in boxes:
        clipped = (max(box[0], x0), max(box[1], y0), min(box[2], x1), min(box[3], y1))
        new = tuple(round((v - o) * scale, 3) for v, o in zip(clipped, (x0, y0, x0, y0), strict=True))
        if new[2] - new[0] >= min_side and new[3] - new[1] >= min_side:
            moved.append(new)
    return moved


def flip_boxes(boxes: Sequence[Box], width: int, height: int, horizontal: bool, vertical: bool) -> list[Box]:
    """Boxes after mirroring the image left-right and/or top-bottom."""
    flipped = []
    for x0, y0, x1, y1 in boxes:
        if horizontal:
            x0, x1 = width - x1, width - x0
        if vertical:
            y0, y1 = height - y1, height - y0
        flipped.append((x0, y0, x1, y1))
    return flipped


def boxes_mask(boxes: Sequence[Box], width: int, height: int) -> np.ndarray:
    """Boolean mask of the pixels whose centres lie inside any box (at least one pixel per box)."""
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        left = min(max(int(np.floor(x0 + 0.5)), 0), width - 1)
        top = min(max(int(np.floor(y0 + 0.5)), 0), height - 1)
        right = max(min(int(np.floor(x1 + 0.5)), width), left + 1)
        bottom = max(min(int(np.floor(y1 + 0.5)), height), top + 1)
        mask[top:bottom, left:right] = True
    return mask
