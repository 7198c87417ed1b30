"""ROI boxes [x0, y0, x1, y1] in pixels: grouping, moving them with crops and flips, rasterising."""

from __future__ import annotations

from collections import defaultdict
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


class _Sweep:
    """The boxes a sweep over x has passed, indexed by their y-intervals (a segment tree over the
    distinct y values): `overlapping` finds the groups of those still reaching the sweep line.

    A node keeps (x1, box) entries of the boxes covering its whole y-range (`whole`) and of those
    covering any of it (`some`). Every entry a query reads overlaps the query's y-interval, so after
    joining them to the new box only the one reaching furthest in x stands for them all: each box
    is read once per node it was put in, and grouping n boxes takes O(n log n), not O(n^2).
    """

    def __init__(self, n_points: int):
        self.last = n_points - 1
        self.whole: dict[int, list[tuple[float, int]]] = defaultdict(list)
        self.some: dict[int, list[tuple[float, int]]] = defaultdict(list)

    def insert(self, low: int, high: int, entry: tuple[float, int]) -> None:
        stack = [(1, 0, self.last)]
        while stack:
            node, left, right = stack.pop()
            self.some[node].append(entry)
            if low <= left and right <= high:
                self.whole[node].append(entry)
                continue
            middle = (left + right) // 2
            if low <= middle:
                stack.append((2 * node, left, middle))
            if high > middle:
                stack.append((2 * node + 1, middle + 1, right))

    def overlapping(self, low: int, high: int, x: float) -> list[int]:
        """A box of every group with a box reaching x whose y-interval meets [low, high] (maybe repeated)."""
        found: list[int] = []
        stack = [(1, 0, self.last)]
        while stack:
            node, left, right = stack.pop()
            if low <= left and right <= high:
                self._read(self.some, node, x, found)
                continue
            self._read(self.whole, node, x, found)
            middle = (left + right) // 2
            if low <= middle:
                stack.append((2 * node, left, middle))
            if high > middle:
                stack.append((2 * node + 1, middle + 1, right))
        return found

    @staticmethod
    def _read(lists: dict[int, list[tuple[float, int]]], node: int, x: float, found: list[int]) -> None:
        if node not in lists:
            return
        reaching = [entry for entry in lists[node] if entry[0] >= x]
        found.extend(box for _, box in reaching)
        lists[node] = [max(reaching)] if reaching else []


def group_boxes(boxes: Sequence[Box], gap_ratio: float = 0.5) -> list[list[Box]]:
    """Groups adjacent ROIs: two boxes join when their gap is at most gap_ratio x their mean size.

    Grown by gap_ratio x half its larger side on every side, two boxes are adjacent exactly when they
    overlap, so the groups are the connected groups of overlapping grown boxes: found by a sweep over x
    (see _Sweep), fast for the thousands of boxes a COCO file may give one photo. Groups come in the
    order of their first box, each with its boxes in the given order.
    """
    grown = []
    for box in boxes:
        margin = gap_ratio * max(box_size(box)) / 2
        grown.append((box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin))
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ys = sorted({v for box in grown for v in (box[1], box[3])})
    rank = {y: index for index, y in enumerate(ys)}
    sweep = _Sweep(len(ys))
    for i in sorted(range(len(boxes)), key=lambda k: grown[k][0]):
        x0, y0, x1, y1 = grown[i]
        for j in sweep.overlapping(rank[y0], rank[y1], x0):
            parent[root(j)] = root(i)
        sweep.insert(rank[y0], rank[y1], (x1, i))
    groups: dict[int, list[Box]] = {}
    for i, box in enumerate(boxes):
        groups.setdefault(root(i), []).append(box)
    return list(groups.values())


def crop_boxes(
    boxes: Sequence[Box], window: Box, size: int, min_side: float = 1.0, corners: np.ndarray | None = None
) -> list[Box]:
    """Boxes seen through a square crop `window` resized to size x size; slivers under min_side px go.

    `corners`, the boxes as an (n, 4) array, makes a photo with thousands of boxes fast: only the boxes
    overlapping the window are then looked at.
    """
    x0, y0, x1, y1 = window
    if corners is not None and len(corners) and min_side > 0:
        inside = (corners[:, 0] < x1) & (corners[:, 2] > x0) & (corners[:, 1] < y1) & (corners[:, 3] > y0)
        boxes = [boxes[i] for i in np.flatnonzero(inside)]
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
