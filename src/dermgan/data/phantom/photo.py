"""What a camera adds to the skin: uneven lighting, a strip of background, blur, sensor noise.

The background (a wall, drape, sheet or clothing) takes a strip or corner along one edge of the photo
and is always clearly not skin: saturated blue or green, or grey. Lighting is a brightness multiplier
that the renderer rescales to median 1 over healthy skin, so that it does not move the measured tone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from dermgan.data.phantom.fields import smooth_noise, smooth_noise_1d, soft_step

# sRGB colours of backgrounds seen in clinical photos: surgical drapes, scrubs, walls, sheets, clothing.
BACKGROUND_COLOURS = np.array(
    [
        (0.12, 0.33, 0.62),  # drape blue
        (0.10, 0.45, 0.40),  # surgical green
        (0.20, 0.50, 0.25),  # green clothing
        (0.50, 0.51, 0.52),  # grey wall
        (0.80, 0.82, 0.84),  # pale grey sheet
        (0.22, 0.23, 0.25),  # charcoal clothing
        (0.10, 0.15, 0.35),  # navy clothing
    ],
    dtype=np.float32,
)
BACKGROUND_PROBABILITY = 0.7
MAX_BACKGROUND_DEPTH = 0.2  # fraction of the photo's extent across the strip
EDGE_SHADOW = 0.03  # fraction of the shorter side over which skin darkens towards the body's edge


@dataclass(frozen=True)
class Background:
    """A strip along one side (0 top, 1 right, 2 bottom, 3 left) whose depth varies along the edge."""

    side: int
    depth: np.ndarray  # pixels from the edge, one value per pixel along it
    colour: np.ndarray

    def facing_top(self, image: np.ndarray) -> np.ndarray:
        """A view of `image` ((H, W) or channel-first) turned so that this strip lies along the top edge."""
        return np.rot90(image, k=self.side, axes=(-2, -1))

    def distance(self, shape: tuple[int, int]) -> np.ndarray:
        """Signed distance in pixels of every pixel beyond the strip's edge (negative on the strip)."""
        across = shape[0] if self.side % 2 == 0 else shape[1]
        rows = np.arange(across, dtype=np.float32)[:, None]
        return np.rot90(rows - self.depth[None, :].astype(np.float32), k=-self.side)

    @property
    def rows(self) -> int:
        """How many rows from its edge the strip can cover."""
        return math.ceil(self.depth.max()) + 2

    def clear_area(self, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the part of the photo that the strip cannot reach."""
        height, width = shape
        return (
            (self.rows, 0, height, width),
            (0, 0, height, width - self.rows),
            (0, 0, height - self.rows, width),
            (0, self.rows, height, width),
        )[self.side]


def draw_background(rng: np.random.Generator, shape: tuple[int, int]) -> Background | None:
    """None (skin fills the frame) or a strip, straight, slanted into a corner, or gently curved."""
    if rng.random() > BACKGROUND_PROBABILITY:
        return None
    side = int(rng.integers(4))
    length, across = (shape[1], shape[0]) if side % 2 == 0 else (shape[0], shape[1])
    along = np.linspace(-0.5, 0.5, length)
    depth = rng.uniform(0.04, 0.12) + rng.uniform(-0.12, 0.12) * along
    depth += 0.015 * smooth_noise_1d(rng, length, cells=3)
    depth = np.clip(depth, 0.0, MAX_BACKGROUND_DEPTH) * across
    colour = BACKGROUND_COLOURS[rng.integers(len(BACKGROUND_COLOURS))] * rng.uniform(0.85, 1.1, 3)
    return Background(side=side, depth=depth, colour=np.clip(colour, 0.0, 1.0).astype(np.float32))


def edge_shadow(distance: np.ndarray) -> np.ndarray:
    """Brightness multiplier of skin curving away from the camera towards the body's edge."""
    width = EDGE_SHADOW * min(distance.shape)
    return 1.0 - 0.18 * np.exp(-np.clip(distance, 0.0, None) / width)


def paint_background(
    canvas: np.ndarray, background: Background, light: np.ndarray, rng: np.random.Generator
) -> None:
    """Lays the strip, with cloth folds and the scene's lighting, over the canvas in place."""
    rows = background.rows
    region = background.facing_top(canvas)[:, :rows]
    cover = soft_step(background.depth[None, :] - np.arange(rows, dtype=np.float32)[:, None], 1.5)
    folds = 1.0 + 0.12 * smooth_noise(rng, cover.shape, cells=4)
    cloth = background.colour[:, None, None] * (folds * background.facing_top(light)[:rows])[None]
    region += cover[None] * (cloth - region)


def lighting(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A brightness multiplier around 1: a linear gradient across the photo plus a little vignetting."""
    shorter = min(shape)
    rows = (np.arange(shape[0], dtype=np.float32) - shape[0] / 2) / shorter
    cols = (np.arange(shape[1], dtype=np.float32) - shape[1] / 2) / shorter
    angle = float(rng.uniform(0.0, 2.0 * np.pi))
    slope = float(rng.uniform(0.04, 0.16))
    vignette = float(rng.uniform(0.0, 0.15))
    gradient = slope * (rows[:, None] * math.sin(angle) + cols[None, :] * math.cos(angle))
    return 1.0 + gradient - vignette * (np.square(rows)[:, None] + np.square(cols)[None, :])


def camera(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slight defocus blur and sensor noise on a (3, H, W) image; returns (H, W, 3) 8-bit pixels."""
    sigma = float(rng.uniform(0.4, 1.1))
    shot = ndimage.gaussian_filter(canvas, (0.0, sigma, sigma), truncate=2.5)
    spread = 255.0 * float(rng.uniform(0.015, 0.04))  # uniform sensor noise of about 1-3 levels std
    noise = rng.random(canvas.shape[1:], dtype=np.float32)
    noise *= spread
    noise += 0.5 - spread / 2  # centred, plus a half for rounding
    shot *= 255.0
    shot += noise[None]
    return np.clip(shot, 0.0, 255.0, out=shot).astype(np.uint8).transpose(1, 2, 0)
