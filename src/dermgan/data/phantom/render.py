"""One phantom photo: a case's subject, framed by this photo's view, painted, lit and shot.

Each photo draws from two seeded streams: the case's (skin, lesions: shared by all its photos) and
its own (size, framing, background, lighting, hair, noise), both derived from the dataset seed and a
fixed index, so a photo never depends on which worker renders it or on the other photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from dermgan.conditions import ita_degrees
from dermgan.data.phantom.lesions import LESION_KINDS, Layer
from dermgan.data.phantom.photo import (
    Background,
    camera,
    draw_background,
    edge_shadow,
    lighting,
    paint_background,
)
from dermgan.data.phantom.skin import paint_hair, skin_canvas, texture_multiplier
from dermgan.data.phantom.subject import Subject, draw_subject
from dermgan.files import atomic_path

# Photo `index` draws from default_rng([seed, index]); a non-zero third word gives other streams their own
# draws (NumPy seeds [seed, i] and [seed, i, 0] alike): 1 for a case's subject, 2 for the case plan.
SUBJECT_STREAM = 1
ZOOM = (0.8, 1.15)  # lesion scale of a photo relative to the reference frame
BOX_OPACITY = 0.3  # a lesion's box encloses the pixels it covers at least this much
JPEG_QUALITY = 92

PixelBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class PhotoJob:
    """Everything needed to render photo `index` of a dataset, and where to write it."""

    seed: int
    index: int
    case_number: int
    condition: str
    skin_type: int
    size_range: tuple[int, int]
    path: Path


@dataclass(frozen=True)
class PhotoRecord:
    """What the dataset needs to know about a written photo."""

    width: int
    height: int
    boxes: tuple[PixelBox, ...]
    ita: float  # the healthy skin's sampled Individual Typology Angle


def subject_of(job: PhotoJob) -> Subject:
    rng = np.random.default_rng([job.seed, job.case_number, SUBJECT_STREAM])
    return draw_subject(job.condition, job.skin_type, rng)


@dataclass(frozen=True)
class _Scene:
    """A photo up to its lesions: the bare skin canvas, the lesions placed on it, and the photo's stream."""

    subject: Subject
    rng: np.random.Generator
    shape: tuple[int, int]
    background: Background | None
    canvas: np.ndarray
    lesions: tuple[tuple[Layer, tuple[int, int]], ...]


def _scene(job: PhotoJob) -> _Scene:
    subject = subject_of(job)
    rng = np.random.default_rng([job.seed, job.index])
    shape = (
        int(rng.integers(job.size_range[0], job.size_range[1] + 1)),
        int(rng.integers(job.size_range[0], job.size_range[1] + 1)),
    )
    background = draw_background(rng, shape)
    canvas = skin_canvas(subject.skin, shape, rng)
    lesions = _place_lesions(subject, _frame(subject, shape, background, rng))
    return _Scene(subject, rng, shape, background, canvas, lesions)


def lesion_opacity(job: PhotoJob) -> np.ndarray:
    """(H, W) opacity of the lesions as painted in photo `job` (before hair, lighting and camera): the
    ground truth of where each lesion and each of its spots is, for checking lesion measures."""
    scene = _scene(job)
    opacity = np.zeros(scene.shape, dtype=np.float32)
    for layer, centre in scene.lesions:
        rows, cols, patch = _overlap(scene.shape, layer, centre)
        np.maximum(opacity[rows, cols], layer.alpha[patch], out=opacity[rows, cols])
    return opacity


def render_photo(job: PhotoJob) -> tuple[np.ndarray, PhotoRecord]:
    """The photo as (H, W, 3) 8-bit RGB pixels, with its lesion boxes."""
    scene = _scene(job)
    subject, rng, shape, canvas = scene.subject, scene.rng, scene.shape, scene.canvas
    background = scene.background
    boxes = [box for layer, centre in scene.lesions if (box := _composite(canvas, layer, centre)) is not None]
    paint_hair(canvas, subject.skin, rng)
    healthy = np.ones(shape, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        healthy[y0:y1, x0:x1] = False
    light = lighting(rng, shape)
    multiplier = texture_multiplier(subject.skin, shape, rng) * light
    if background is not None:
        distance = background.distance(shape)
        multiplier *= edge_shadow(distance)
        healthy &= distance > 2
    # Normalise on healthy skin so that its median pixel keeps the sampled tone.
    exposure = float(np.median(multiplier[::3, ::3][healthy[::3, ::3]]))
    canvas *= (multiplier / exposure)[None]
    if background is not None:
        paint_background(canvas, background, light / exposure, rng)
    record = PhotoRecord(
        width=shape[1],
        height=shape[0],
        boxes=tuple(boxes),
        ita=ita_degrees(subject.skin.lab[0], subject.skin.lab[2]),
    )
    return camera(canvas, rng), record


def write_photo(job: PhotoJob) -> PhotoRecord:
    """Renders the photo and saves it as a JPEG without metadata; runs in worker processes."""
    pixels, record = render_photo(job)
    with atomic_path(job.path) as temporary:
        Image.fromarray(pixels).save(temporary, format="JPEG", quality=JPEG_QUALITY)
    return record


def _frame(
    subject: Subject, shape: tuple[int, int], background: Background | None, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Pixels per reference unit and the pixel position of the reference origin for this photo.

    The lesions are zoomed and shifted at random but kept whole on the skin, clear of the background.
    """
    clear = (0, 0, *shape) if background is None else background.clear_area(shape)
    clear_top, clear_left, clear_bottom, clear_right = clear
    top, left, bottom, right = subject.extent
    scale = min(shape) * float(rng.uniform(*ZOOM))
    scale = min(
        scale, (clear_bottom - clear_top) / (bottom - top), (clear_right - clear_left) / (right - left)
    )
    slack_y = max(0.0, clear_bottom - clear_top - (bottom - top) * scale)
    slack_x = max(0.0, clear_right - clear_left - (right - left) * scale)
    origin_y = clear_top - top * scale + rng.random() * slack_y
    origin_x = clear_left - left * scale + rng.random() * slack_x
    return scale, origin_y, origin_x


def _place_lesions(
    subject: Subject, frame: tuple[float, float, float]
) -> tuple[tuple[Layer, tuple[int, int]], ...]:
    """Every lesion's painted layer and the pixel (row, column) of its centre in this photo."""
    scale, origin_y, origin_x = frame
    kind = LESION_KINDS[subject.condition]
    return tuple(
        (
            kind.layer(np.random.default_rng(lesion.seed), lesion.radius * scale, subject.skin.lab),
            (round(origin_y + lesion.centre[0] * scale), round(origin_x + lesion.centre[1] * scale)),
        )
        for lesion in subject.lesions
    )


def _overlap(
    shape: tuple[int, int], layer: Layer, centre: tuple[int, int]
) -> tuple[slice, slice, tuple[slice, slice]]:
    """The canvas rows and columns a layer centred at `centre` covers, and the part of the layer they show."""
    half = layer.alpha.shape[0] // 2
    top, left = centre[0] - half, centre[1] - half
    rows = slice(max(top, 0), min(top + layer.alpha.shape[0], shape[0]))
    cols = slice(max(left, 0), min(left + layer.alpha.shape[1], shape[1]))
    return rows, cols, (slice(rows.start - top, rows.stop - top), slice(cols.start - left, cols.stop - left))


def _composite(canvas: np.ndarray, layer: Layer, centre: tuple[int, int]) -> PixelBox | None:
    """Blends the layer onto the canvas at `centre` (row, column), clipped to the canvas; returns its tight
    box (x0, y0, x1, y1)."""
    rows, cols, patch = _overlap(canvas.shape[1:], layer, centre)
    alpha = layer.alpha[patch]
    rgb = layer.rgb[:, patch[0], patch[1]]
    canvas[:, rows, cols] += alpha[None] * (rgb - canvas[:, rows, cols])
    covered_rows = np.flatnonzero((alpha > BOX_OPACITY).any(axis=1))
    covered_cols = np.flatnonzero((alpha > BOX_OPACITY).any(axis=0))
    if covered_rows.size == 0:
        return None
    return (
        cols.start + int(covered_cols[0]),
        rows.start + int(covered_rows[0]),
        cols.start + int(covered_cols[-1]) + 1,
        rows.start + int(covered_rows[-1]) + 1,
    )
