"""The eight phantom conditions: what each lesion looks like, how big it is and how many a photo shows.

Each painter returns a `Layer` (opacity and colour on a square patch centred on the lesion) for a
given radius in pixels and skin colour. All colours are Lab offsets from the skin (see `tone.Shift`),
so the same painter gives bright red erythema on light skin and a dusky violet-brown on dark skin.
Every random draw a painter makes is independent of the radius, so one lesion seed paints the same
lesion at any size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dermgan.data.phantom.fields import (
    Blob,
    centred_grid,
    curve_points,
    dot_mask,
    smooth_noise,
    soft_step,
    stroke_mask,
)
from dermgan.data.phantom.tone import Shift, darkness, shifted_rgb

# Light falls from the upper left: raised lesions are brighter on that side.
LIGHT_DIRECTION = np.array([-0.6, -0.8], dtype=np.float32)  # (dy, dx)

NEVUS = Shift((-24, 4, 8), (-16, 1, -3))
NEVUS_CENTRE = Shift((-32, 5, 7), (-21, 1, -5))
MELANOMA_PALETTE = (
    Shift((-36, 8, 10), (-19, 1, -3)),  # brown
    Shift((-55, 2, -2), (-27, 0, -7)),  # black
    Shift((-30, -3, -14), (-14, -3, -10)),  # blue-grey
    Shift((-20, 18, 8), (-11, 8, -2)),  # red-brown
    Shift((-20, 6, 12), (-10, 1, 0)),  # light brown
)
# How much more of each melanoma colour a lesion shows on average: mostly browns and black.
MELANOMA_PREVALENCE = np.array([1.0, 0.5, -0.4, -0.5, -0.2], dtype=np.float32)
PEARL = Shift((2, 11, -2), (4, 7, -4))
PEARL_RIM = Shift((9, 8, -4), (10, 5, -6))
VESSEL = Shift((-14, 30, 12), (-9, 14, 2))
CRUST = Shift((-26, 14, 12), (-14, 6, 2))
SK_LIGHT = Shift((-13, 3, 9), (-8, 1, 0))
SK_DARK = Shift((-32, 3, 4), (-20, 0, -5))
KERATIN = Shift((-2, 0, 12), (6, -1, 4))
HORN_CYST = Shift((10, -3, 6), (18, -3, 2))
ERYTHEMA = Shift((-5, 15, 5), (-8, 7, -5))
AK_SCALE = Shift((9, -3, 9), (16, -3, 4))
PLAQUE = Shift((-8, 21, 6), (-12, 8, -7))
SILVER_SCALE = Shift((14, -6, -10), (26, -4, -10))
ECZEMA = Shift((-5, 15, 5), (-9, 6, -5))
ECZEMA_PAPULE = Shift((-10, 21, 6), (-12, 8, -5))
EXCORIATION = Shift((-20, 18, 10), (-14, 8, 0))
PAPULE = Shift((-8, 24, 7), (-12, 9, -5))
PUS = Shift((12, -2, 22), (30, -4, 8))
HYPERPIGMENTATION = Shift((-8, 3, 6), (-11, 1, -1))


@dataclass(frozen=True)
class Layer:
    """A painted lesion: opacity (h, w) and channel-first colour (3, h, w) on a square patch centred on it."""

    alpha: np.ndarray
    rgb: np.ndarray


# (rng, radius in pixels, skin Lab, dy, dx) -> Layer, where dy and dx are the patch's pixel offsets from its
# centre (a column and a row).
Painter = Callable[[np.random.Generator, float, np.ndarray, np.ndarray, np.ndarray], Layer]


@dataclass(frozen=True)
class LesionKind:
    """A condition's painter and its lesions' radius (fraction of the photo's shorter side) and count.

    `reach` bounds how far a lesion extends from its centre, in radii: it sizes the patch the lesion is
    painted on and keeps the lesions of a photo apart.
    """

    paint: Painter
    radius: tuple[float, float]
    max_count: int
    reach: float

    def layer(self, rng: np.random.Generator, radius: float, skin_lab: np.ndarray) -> Layer:
        """One lesion of `radius` pixels on skin of this colour, painted from `rng`."""
        return self.paint(rng, radius, skin_lab, *centred_grid(math.ceil(radius * self.reach) + 2))


def _blend(base: np.ndarray, colour: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Colour image `base` (or a single colour) moved towards `colour` by `weight` (0-1 per pixel)."""
    return base + np.clip(weight, 0.0, 1.0)[None] * (colour - base)


def _raised(dy: np.ndarray, dx: np.ndarray, radius: float, height: float) -> np.ndarray:
    """Brightness multiplier of a dome lit from the upper left: `height` brighter/darker at its sides."""
    facing = -(dy * LIGHT_DIRECTION[0] + dx * LIGHT_DIRECTION[1]) / radius
    return (1.0 + height * np.clip(facing, -1.0, 1.0))[None]


def _depth(inside: np.ndarray, radius: float) -> np.ndarray:
    """0 at the outline, rising to 1 towards the centre."""
    return np.clip(inside / radius, 0.0, 1.0)


def _points_in_disc(rng: np.random.Generator, count: int, limit: float) -> np.ndarray:
    """`count` uniform points (y, x) inside a disc of radius `limit`."""
    radius = limit * np.sqrt(rng.random(count))
    angle = rng.uniform(0.0, 2.0 * np.pi, count)
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype(np.float32)


def _dots(shape: tuple[int, int], centres: np.ndarray, radius: float) -> np.ndarray:
    """Soft round dots at patch offsets `centres` (y, x from the patch centre)."""
    half = (shape[0] - 1) / 2
    return dot_mask(shape, centres[:, 0] + half, centres[:, 1] + half, radius)


def paint_melanocytic_nevus(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """Small, round, symmetric, evenly brown with a slightly darker centre and a soft regular edge."""
    blob = Blob.random(rng, irregularity=0.06, max_aspect=1.3)
    brown, centre = shifted_rgb(skin_lab, NEVUS, NEVUS_CENTRE)
    grain = smooth_noise(rng, dy.shape[:1] * 2, cells=6)
    inside = blob.inside(dy, dx, radius)
    rgb = _blend(brown, centre, 0.7 * _depth(inside, radius) + 0.1 * grain)
    return Layer(soft_step(inside, max(1.0, 0.15 * radius)), rgb)


def paint_melanoma(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """Asymmetric, notched outline, blotches of several colours (brown, black, blue-grey, red, tan), dots."""
    blob = Blob.random(rng, irregularity=0.6, max_aspect=1.5, harmonics=7, falloff=0.5)
    palette = shifted_rgb(skin_lab, *MELANOMA_PALETTE)
    shape = dy.shape[:1] * 2
    notches = smooth_noise(rng, shape, cells=9)
    smudge = smooth_noise(rng, shape, cells=5)
    share = np.stack([smooth_noise(rng, shape, cells=4) for _ in palette])
    share += (MELANOMA_PREVALENCE + rng.normal(0.0, 0.5, len(palette)).astype(np.float32))[:, None, None]
    dots = _points_in_disc(rng, int(rng.integers(3, 12)), 0.75)
    share = np.exp((share - share.max(axis=0)) / 0.3)
    rgb = np.einsum("kc,khw->chw", palette[:, :, 0, 0], share / share.sum(axis=0))
    rgb = _blend(rgb, palette[1], 0.6 * _dots(shape, dots * radius, max(1.0, radius / 16)))
    inside = blob.inside(dy, dx, radius) + 0.2 * radius * np.clip(notches, -1.5, 1.5)
    return Layer(soft_step(inside, radius * (0.06 + 0.06 * np.clip(np.abs(smudge), 0.0, 2.0))), rgb)


def paint_basal_cell_carcinoma(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """A shiny, translucent pink nodule with a rolled border, branching red vessels, sometimes a crust."""
    blob = Blob.random(rng, irregularity=0.1, max_aspect=1.3)
    pearl, rim, vessel, crust = shifted_rgb(skin_lab, PEARL, PEARL_RIM, VESSEL, CRUST)
    shape = dy.shape[:1] * 2
    count = int(rng.integers(4, 10))
    starts = _points_in_disc(rng, count, 0.75)
    angles = rng.uniform(0.0, 2.0 * np.pi, count)
    bends = rng.normal(0.0, 2.0, count)
    lengths = rng.uniform(0.3, 0.9, count)
    ulcerated = rng.random() < 0.35
    ulcer_edge = smooth_noise(rng, shape, cells=5)
    ys, xs = curve_points(starts * radius + dy.shape[0] // 2, angles, bends, lengths * radius)
    inside = blob.inside(dy, dx, radius)
    depth = _depth(inside, radius)
    shine = np.exp(-(np.square(dy / radius + 0.35) + np.square(dx / radius + 0.3)) / 0.04)
    rgb = _blend(pearl, rim, np.exp(-np.square((depth - 0.12) / 0.1)))
    rgb = _blend(rgb, vessel, stroke_mask(shape, ys, xs, max(0.8, radius / 35)) * 0.7)
    if ulcerated:
        rgb = _blend(rgb, crust, soft_step((depth - 0.65 + 0.1 * ulcer_edge) * radius, 2.0))
    rgb = _blend(rgb * _raised(dy, dx, radius, 0.12), rim * 1.15, 0.5 * shine)
    return Layer(soft_step(inside, max(1.0, 0.12 * radius)) * 0.92, rgb)


def paint_seborrheic_keratosis(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """Stuck-on, sharply bordered, waxy brown plaque with a bumpy, fissured surface and horn cysts."""
    blob = Blob.random(rng, irregularity=0.14, max_aspect=1.7)
    light, dark, keratin, cyst = shifted_rgb(skin_lab, SK_LIGHT, SK_DARK, KERATIN, HORN_CYST)
    base = _blend(light, dark, np.float32(rng.uniform(0.2, 1.0)))
    shape = dy.shape[:1] * 2
    bumps = smooth_noise(rng, shape, cells=16)
    cysts = _points_in_disc(rng, int(rng.integers(3, 10)), 0.75)
    inside = blob.inside(dy, dx, radius)
    rgb = _blend(base, keratin, 0.5 * np.clip(bumps, 0.0, 1.0))
    rgb = _blend(rgb, dark * 0.7, np.clip(1.0 - 3.0 * np.abs(bumps), 0.0, 1.0) * 0.8)
    rgb = _blend(rgb, cyst, _dots(shape, cysts * radius, max(1.0, radius / 18)))
    rgb = _blend(rgb, dark * 0.8, np.exp(-np.square(inside / max(1.5, 0.06 * radius))))
    return Layer(soft_step(inside, 1.2), rgb * _raised(dy, dx, radius, 0.06))


def paint_actinic_keratosis(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """A rough, pink-red patch with a fuzzy edge and gritty yellow-white scale."""
    blob = Blob.random(rng, irregularity=0.25, max_aspect=1.5)
    red, scale = shifted_rgb(skin_lab, ERYTHEMA, AK_SCALE)
    shape = dy.shape[:1] * 2
    roughness = smooth_noise(rng, shape, cells=10)
    flakes = smooth_noise(rng, shape, cells=22)
    inside = blob.inside(dy, dx, radius) + 0.12 * radius * np.clip(roughness, -2.0, 2.0)
    depth = _depth(inside, radius)
    rgb = _blend(red, scale, np.clip(flakes - 0.5, 0.0, 1.0) * (0.4 + depth))
    return Layer(soft_step(inside, 0.25 * radius), rgb)


def paint_psoriasis(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """A sharply bordered red (dark skin: violaceous) plaque under flaky silvery scale, densest inside."""
    blob = Blob.random(rng, irregularity=0.2, max_aspect=1.7)
    red, silver = shifted_rgb(skin_lab, PLAQUE, SILVER_SCALE)
    shape = dy.shape[:1] * 2
    patches = smooth_noise(rng, shape, cells=7)
    flakes = smooth_noise(rng, shape, cells=30)
    mottle = smooth_noise(rng, shape, cells=12)
    inside = blob.inside(dy, dx, radius)
    coverage = np.clip(0.6 * patches + 1.4 * _depth(inside, radius) - 0.45, 0.0, 1.0)
    scale = coverage * np.clip(0.55 + 0.45 * flakes, 0.0, 0.9)
    rgb = _blend(red * (1.0 + 0.04 * mottle[None]), silver, scale)
    return Layer(soft_step(inside, max(1.5, 0.04 * radius)), rgb)


def paint_eczema(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """An ill-defined patch of erythema studded with papules, fine scale and a few scratch marks."""
    blob = Blob.random(rng, irregularity=0.3, max_aspect=1.6)
    patch_red, papule_red, scratch, scale = shifted_rgb(
        skin_lab, ECZEMA, ECZEMA_PAPULE, EXCORIATION, AK_SCALE
    )
    shape = dy.shape[:1] * 2
    fuzz = smooth_noise(rng, shape, cells=6)
    flakes = smooth_noise(rng, shape, cells=26)
    papules = _points_in_disc(rng, int(rng.integers(20, 50)), 0.95)
    count = int(rng.integers(1, 4))
    starts = _points_in_disc(rng, count, 0.6)
    angles = rng.uniform(0.0, 2.0 * np.pi, count)
    lengths = rng.uniform(0.25, 0.6, count)
    peak = float(rng.uniform(0.75, 0.95))
    ys, xs = curve_points(
        starts * radius + dy.shape[0] // 2, angles, rng.normal(0.0, 0.3, count), lengths * radius
    )
    inside = blob.inside(dy, dx, radius) + 0.3 * radius * np.clip(fuzz, -2.0, 2.0)
    rgb = _blend(patch_red, papule_red, 0.8 * _dots(shape, papules * radius, max(1.5, radius / 14)))
    rgb = _blend(rgb, scale, 0.3 * np.clip(flakes - 1.0, 0.0, 1.0))
    rgb = _blend(rgb, scratch, 0.8 * stroke_mask(shape, ys, xs, max(1.5, radius / 25)))
    return Layer(soft_step(inside, 0.5 * radius) * peak, rgb)


def paint_acne(
    rng: np.random.Generator, radius: float, skin_lab: np.ndarray, dy: np.ndarray, dx: np.ndarray
) -> Layer:
    """A cluster of separate red papules with soft halos, some with a yellow-white head; on dark skin
    also brown marks where earlier papules healed."""
    papule_red, pus, mark = shifted_rgb(skin_lab, PAPULE, PUS, HYPERPIGMENTATION)
    sizes = rng.uniform(0.1, 0.18, 24).astype(np.float32)
    candidates = _points_in_disc(rng, 24, 0.85)
    pustular = rng.random(24) < 0.3
    marks = _points_in_disc(rng, round(6 * darkness(skin_lab)), 0.9)
    keep = _spaced(candidates, sizes, limit=int(rng.integers(5, 15)))
    shape = dy.shape[:1] * 2
    centres, papule_radii = candidates[keep] * radius, sizes[keep] * radius
    offsets = dy[None] - centres[:, 0, None, None], dx[None] - centres[:, 1, None, None]
    nearest = (np.hypot(*offsets) / papule_radii[:, None, None]).argmin(axis=0)[None]
    offset_y, offset_x = (np.take_along_axis(offset, nearest, axis=0)[0] for offset in offsets)
    papule_radius = papule_radii[nearest[0]]
    relative = np.hypot(offset_y, offset_x) / papule_radius
    halo = 0.35 * np.exp(-np.square(relative / 1.8))
    alpha = np.maximum(soft_step((1.0 - relative) * papule_radius, 0.9 * papule_radius), halo)
    rgb = _blend(papule_red, pus, np.exp(-np.square(relative / 0.4)) * pustular[keep][nearest[0]])
    rgb = rgb * _raised(offset_y, offset_x, float(papule_radii.mean()), 0.15)
    spots = _dots(shape, marks * radius, max(2.0, radius / 7)) * (1.0 - alpha)
    return Layer(np.maximum(alpha, 0.8 * spots), _blend(rgb, mark, spots))


def _spaced(centres: np.ndarray, sizes: np.ndarray, limit: int) -> np.ndarray:
    """Indices of up to `limit` centres, in order, that keep clear of each other by their sizes."""
    kept: list[int] = []
    for index, (centre, size) in enumerate(zip(centres, sizes, strict=True)):
        gaps = np.hypot(*(centres[kept] - centre).T) - 3.2 * np.maximum(sizes[kept], size)
        if len(kept) < limit and (not kept or gaps.min() > 0):
            kept.append(index)
    return np.array(kept)


LESION_KINDS: dict[str, LesionKind] = {
    "melanoma": LesionKind(paint_melanoma, radius=(0.06, 0.12), max_count=1, reach=2.4),
    "melanocytic nevus": LesionKind(paint_melanocytic_nevus, radius=(0.018, 0.035), max_count=3, reach=1.3),
    "basal cell carcinoma": LesionKind(
        paint_basal_cell_carcinoma, radius=(0.04, 0.08), max_count=2, reach=1.35
    ),
    "seborrheic keratosis": LesionKind(
        paint_seborrheic_keratosis, radius=(0.04, 0.09), max_count=3, reach=1.5
    ),
    "actinic keratosis": LesionKind(paint_actinic_keratosis, radius=(0.04, 0.08), max_count=3, reach=2.0),
    "psoriasis": LesionKind(paint_psoriasis, radius=(0.09, 0.16), max_count=3, reach=1.6),
    "eczema": LesionKind(paint_eczema, radius=(0.08, 0.15), max_count=2, reach=2.5),
    "acne": LesionKind(paint_acne, radius=(0.09, 0.15), max_count=2, reach=1.45),
}
CONDITIONS: tuple[str, ...] = tuple(LESION_KINDS)
