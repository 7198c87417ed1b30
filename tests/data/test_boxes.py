"""Boxes follow their pixels through crops, resizes and flips (checked against the pixels themselves)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dermgan.data.boxes import boxes_mask, crop_boxes, flip_boxes, group_boxes


def lesion_bounds(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of dark pixels (the lesion) as [x0, y0, x1, y1)."""
    ys, xs = np.nonzero(pixels.mean(axis=-1) < 100)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def photo_with_lesion(box) -> Image.Image:
    pixels = np.full((200, 300, 3), 200, dtype=np.uint8)
    x0, y0, x1, y1 = box
    pixels[y0:y1, x0:x1] = 20
    return Image.fromarray(pixels)


def test_adjacent_boxes_group_and_distant_ones_do_not():
    near = [(0, 0, 10, 10), (12, 0, 22, 10)]
    far = [(200, 200, 210, 210)]
    groups = group_boxes(near + far, gap_ratio=0.5)
    assert sorted(len(g) for g in groups) == [1, 2]
    assert len(group_boxes(near + far, gap_ratio=0.1)) == 3
    assert len(group_boxes([(0, 0, 10, 10), (5, 5, 20, 20)], gap_ratio=0.0)) == 1  # overlap


def test_crop_and_resize_move_boxes_with_the_pixels():
    lesion = (100, 60, 140, 90)
    image = photo_with_lesion(lesion)
    window = (80.0, 40.0, 180.0, 140.0)
    crop = np.asarray(image.resize((50, 50), Image.Resampling.NEAREST, box=window))
    [moved] = crop_boxes([lesion], window, size=50)
    assert moved == (10.0, 10.0, 30.0, 25.0)
    assert lesion_bounds(crop) == (10, 10, 30, 25)


def test_boxes_are_clipped_to_the_window_and_slivers_dropped():
    window = (0.0, 0.0, 100.0, 100.0)
    assert crop_boxes([(90, 90, 150, 150)], window, size=100) == [(90.0, 90.0, 100.0, 100.0)]
    assert crop_boxes([(99.5, 10, 150, 20)], window, size=100) == []


def test_flips_move_boxes_with_the_pixels():
    lesion = (100, 60, 140, 90)
    image = photo_with_lesion(lesion)
    mirrored = np.asarray(image)[::-1, ::-1]
    [flipped] = flip_boxes([lesion], 300, 200, horizontal=True, vertical=True)
    assert flipped == (160, 110, 200, 140)
    assert lesion_bounds(mirrored) == flipped
    assert flip_boxes([lesion], 300, 200, horizontal=False, vertical=False) == [lesion]


def test_mask_covers_pixel_centres_inside_boxes():
    mask = boxes_mask([(1.2, 0.0, 3.6, 2.0)], width=5, height=3)
    assert mask.astype(int).tolist() == [[0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    assert boxes_mask([(2.1, 1.1, 2.2, 1.2)], 5, 3).sum() == 1, "a tiny box still marks one pixel"
