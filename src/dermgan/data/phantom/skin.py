"""Healthy skin: its colour, surface texture (skin lines, pores, blotches) and hair.

Images are painted channel-first, (3, H, W) floats in [0, 1], so that per-pixel fields broadcast
over the colour channels cheaply. The texture is a brightness multiplier whose median is made 1 by
the renderer, so the median skin pixel keeps the sampled colour and the measured tone (ITA) of a
photo stays in its Fitzpatrick band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dermgan.data.phantom.fields import curve_points, smooth_noise, stroke_mask
from dermgan.data.phantom.tone import lab_to_rgb, sample_skin_lab

# A skin line is 2 / sqrt(LINE_SHARPNESS) of a period wide.
LINE_SHARPNESS = 150.0
GRAIN = 0.04  # brightness range of the skin's fine grain
# How each channel follows a blotch: blotchy skin is redder (more red, less green and blue) and darker.
BLOTCH_CHANNELS = np.array([0.4, -0.8, -0.8], dtype=np.float32)[:, None, None]


@dataclass(frozen=True)
class SkinLook:
    """What one person's skin looks like in every photo: tone, skin-line pattern, pores and hair."""

    lab: np.ndarray
    line_period: float  # fraction of the photo's shorter side between neighbouring skin lines
    line_angles: tuple[float, float]
    line_depth: float
    pore_density: float
    pore_depth: float
    blotchiness: float
    hair_count: int  # hairs over a square of the photo's shorter side
    hair_lab: np.ndarray
    hair_angle: float

    @property
    def rgb(self) -> np.ndarray:
        """The skin colour as a (3, 1, 1) column, to broadcast over a channel-first image."""
        return lab_to_rgb(self.lab)[:, None, None]


def draw_skin_look(skin_type: int, rng: np.random.Generator) -> SkinLook:
    """A random skin of the given Fitzpatrick type; a third of people show no hair in the photo."""
    lab = sample_skin_lab(skin_type, rng)
    first_angle = float(rng.uniform(0.0, np.pi))
    hairy = rng.random() > 0.35
    hair_lightness = lab[0] * rng.uniform(0.35, 0.7)
    return SkinLook(
        lab=lab,
        line_period=float(rng.uniform(0.018, 0.035)),
        line_angles=(first_angle, first_angle + float(rng.uniform(0.6, 1.3))),
        line_depth=float(rng.uniform(0.025, 0.05)),
        pore_density=float(rng.uniform(0.003, 0.01)),
        pore_depth=float(rng.uniform(0.08, 0.18)),
        blotchiness=float(rng.uniform(0.008, 0.02)),
        hair_count=int(rng.integers(5, 40)) if hairy else 0,
        hair_lab=np.array([hair_lightness, rng.uniform(1.0, 5.0), rng.uniform(2.0, 12.0)]),
        hair_angle=float(rng.uniform(0.0, np.pi)),
    )


def skin_canvas(look: SkinLook, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A (3, H, W) image of the bare skin colour with faint reddish blotches of zero mean."""
    blotches = smooth_noise(rng, shape, cells=10) * look.blotchiness
    canvas = (look.rgb * BLOTCH_CHANNELS) * blotches[None]
    canvas += look.rgb
    return canvas


def skin_lines(look: SkinLook, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Darkening (0 to 1) along two crossing families of wavy skin lines that fade in and out."""
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    cols = np.arange(shape[1], dtype=np.float32)[None, :]
    period = look.line_period * min(shape)
    visible = np.clip(smooth_noise(rng, shape, cells=8) * 0.7 + 0.2, 0.0, 1.0)
    wobble = smooth_noise(rng, shape, cells=5) * 0.8
    lines = np.zeros(shape, dtype=np.float32)
    for family, angle in enumerate(look.line_angles):
        phase = cols * (math.cos(angle) / period) + rows * (math.sin(angle) / period)
        phase += wobble if family == 0 else -wobble
        phase -= np.round(phase)  # now the offset, in periods, to the nearest line
        np.square(phase, out=phase)
        phase *= -LINE_SHARPNESS
        phase += 1.0
        np.maximum(lines, phase, out=lines)
    lines *= visible
    return lines


def texture_multiplier(look: SkinLook, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Brightness multiplier (H, W) of the skin surface: skin lines, pores and fine grain."""
    grain = rng.random(shape, dtype=np.float32)
    pores = grain < look.pore_density  # the darkest grains open into pores
    multiplier = skin_lines(look, shape, rng)
    multiplier *= -look.line_depth
    multiplier += GRAIN * (grain - 0.5)
    multiplier[pores] -= look.pore_depth
    multiplier += 1.0
    return multiplier


def paint_hair(canvas: np.ndarray, look: SkinLook, rng: np.random.Generator) -> None:
    """Draws the person's hairs, mostly lying one way, as thin curved strokes over skin and lesions."""
    if look.hair_count == 0:
        return
    height, width = canvas.shape[1:]
    shorter = min(height, width)
    count = max(1, round(look.hair_count * height * width / shorter**2))
    starts = rng.uniform((0.0, 0.0), (height, width), size=(count, 2))
    angles = look.hair_angle + rng.normal(0.0, 0.35, count)
    bends = rng.normal(0.0, 1.0, count)
    lengths = rng.uniform(0.15, 0.5, count) * shorter
    ys, xs = curve_points(starts, angles, bends, lengths)
    opacity = stroke_mask((height, width), ys, xs, max(1.0, shorter / 400.0)) * float(rng.uniform(0.35, 0.7))
    canvas += opacity[None] * (lab_to_rgb(look.hair_lab)[:, None, None] - canvas)
