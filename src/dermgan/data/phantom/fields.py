"""Random fields and soft masks that the skin, lesion and background painters are built from.

Every field is drawn on a coarse grid whose size does not depend on the output size and is then
resampled, so the same random draws give the same pattern at any scale: two photos of one lesion
taken from different distances show the same lesion.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Standard deviation of unit white noise after cubic B-spline interpolation in two dimensions.
BSPLINE_STD = 151.0 / 315.0
CURVE_STEP = 0.7  # pixels between the points that trace a curve
SINGLE_THREAD_WORK = 200_000  # multiply-adds per matrix product that BLAS keeps on one thread


@functools.lru_cache(maxsize=64)
def _bspline_weights(length: int, nodes: int) -> np.ndarray:
    """(length, nodes) cubic B-spline weights spreading `nodes` grid values smoothly over `length` pixels."""
    position = (np.arange(length, dtype=np.float32) + 0.5) * ((nodes - 3) / length) + 1.0
    distance = np.abs(position[:, None] - np.arange(nodes, dtype=np.float32)[None, :])
    near = (2.0 / 3.0) - np.square(distance) + 0.5 * distance**3
    far = np.clip(2.0 - distance, 0.0, None) ** 3 / 6.0
    return np.where(distance < 1.0, near, far).astype(np.float32)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth noise with about `cells` blobs across the longer side, roughly zero mean and unit std."""
    longer = max(shape)
    grid = (max(1, round(cells * shape[0] / longer)) + 3, max(1, round(cells * shape[1] / longer)) + 3)
    coarse = rng.standard_normal(grid, dtype=np.float32) * (1.0 / BSPLINE_STD)
    down = _bspline_weights(shape[0], grid[0])
    across = _bspline_weights(shape[1], grid[1]).T
    field = np.empty(shape, dtype=np.float32)
    # Many small matrix products rather than one large one: BLAS runs small ones on the calling thread,
    # while a large one wakes its thread pool, whose spinning threads starve the other worker processes.
    block = max(1, SINGLE_THREAD_WORK // (grid[1] * max(grid[0], shape[1])))
    for start in range(0, shape[0], block):
        np.matmul(down[start : start + block] @ coarse, across, out=field[start : start + block])
    return field


def smooth_noise_1d(rng: np.random.Generator, length: int, cells: int) -> np.ndarray:
    """One-dimensional smooth noise (zero mean, unit std) for wavy edges and lines."""
    return smooth_noise(rng, (1, length), cells)[0]


def soft_step(inside: np.ndarray, softness: float | np.ndarray) -> np.ndarray:
    """Opacity from a signed distance in pixels (positive inside): a linear ramp `softness` pixels wide."""
    return np.clip(0.5 + inside / np.maximum(softness, 1e-3), 0.0, 1.0).astype(np.float32)


def centred_grid(half_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets (dy as a column, dx as a row) from the centre of a square patch."""
    offsets = np.arange(-half_size, half_size + 1, dtype=np.float32)
    return offsets[:, None], offsets[None, :]


def _splat(shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Unit weights at sub-pixel points, shared bilinearly among the four nearest pixels."""
    top, left = np.floor(ys), np.floor(xs)
    down, right = ys - top, xs - left
    rows = np.concatenate([top, top, top + 1, top + 1]).astype(np.intp)
    cols = np.concatenate([left, left + 1, left, left + 1]).astype(np.intp)
    weights = np.concatenate([(1 - down) * (1 - right), (1 - down) * right, down * (1 - right), down * right])
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    flat = rows[inside] * shape[1] + cols[inside]
    total = np.bincount(flat, weights[inside], minlength=shape[0] * shape[1])
    return total.reshape(shape).astype(np.float32)


def stroke_mask(
    shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray, width: float, step: float = CURVE_STEP
) -> np.ndarray:
    """Anti-aliased lines (values 0-1) through points sampled every `step` pixels along each curve."""
    density = _splat(shape, ys, xs) * step
    if width <= 1.5:
        return np.clip(density, 0.0, 1.0)
    sigma = width / 2.5
    return np.clip(
        ndimage.gaussian_filter(density, sigma) * (1.25 * math.sqrt(2.0 * math.pi) * sigma), 0.0, 1.0
    )


def dot_mask(shape: tuple[int, int], ys: np.ndarray, xs: np.ndarray, radius: float) -> np.ndarray:
    """Soft round dots (1 inside, 0.5 at `radius` pixels from the centre) at the given points."""
    sigma = max(radius / 1.67, 0.5)
    impulses = _splat(shape, ys, xs)
    return np.clip(ndimage.gaussian_filter(impulses, sigma) * (4.0 * np.pi * sigma**2), 0.0, 1.0)


def curve_points(
    starts: np.ndarray, angles: np.ndarray, bends: np.ndarray, lengths: np.ndarray, step: float = CURVE_STEP
) -> tuple[np.ndarray, np.ndarray]:
    """Points every `step` pixels along circular arcs, one per start (y, x), heading, bend (rad), length."""
    steps = np.ceil(lengths / step).astype(int) + 1
    curve = np.repeat(np.arange(len(steps)), steps)
    fraction = np.concatenate([np.linspace(0.0, 1.0, count) for count in steps])
    heading = angles[curve] + bends[curve] * fraction
    travelled = np.cumsum(np.sin(heading) * step), np.cumsum(np.cos(heading) * step)
    firsts = np.concatenate([[0], np.cumsum(steps)[:-1]])
    ys = starts[curve, 0] + travelled[0] - np.repeat(travelled[0][firsts], steps)
    xs = starts[curve, 1] + travelled[1] - np.repeat(travelled[1][firsts], steps)
    return ys, xs


@dataclass(frozen=True)
class Blob:
    """A closed lesion outline in polar form: r(theta) = 1 + sum_k a_k cos(k theta + phi_k), stretched.

    The amplitudes add up to `irregularity`: near 0 gives a round, symmetric outline (a nevus), large
    values an irregular, asymmetric one. `reach` bounds the outline.
    """

    amplitudes: np.ndarray
    phases: np.ndarray
    aspect: float
    angle: float

    @classmethod
    def random(
        cls,
        rng: np.random.Generator,
        irregularity: float,
        max_aspect: float,
        harmonics: int = 6,
        falloff: float = 1.0,
    ) -> Blob:
        """`falloff` below 1 gives the higher harmonics (lobes and notches) a larger share."""
        orders = np.arange(1, harmonics + 1)
        weights = rng.uniform(0.3, 1.0, harmonics) / orders**falloff
        amplitudes = irregularity * weights / weights.sum()
        return cls(
            amplitudes=amplitudes.astype(np.float32),
            phases=rng.uniform(0.0, 2.0 * np.pi, harmonics).astype(np.float32),
            aspect=float(rng.uniform(1.0, max_aspect)),
            angle=float(rng.uniform(0.0, np.pi)),
        )

    def inside(self, dy: np.ndarray, dx: np.ndarray, radius: float) -> np.ndarray:
        """Signed distance in pixels (approximately) to the outline, positive inside."""
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        stretch = math.sqrt(self.aspect)
        along = (dx * cos + dy * sin) / stretch
        across = (dy * cos - dx * sin) * stretch
        theta = np.arctan2(across, along)
        outline = np.ones_like(theta)
        for order, (amplitude, phase) in enumerate(zip(self.amplitudes, self.phases, strict=True), start=1):
            outline += amplitude * np.cos(order * theta + phase)
        return (np.maximum(outline, 0.25) - np.hypot(along, across) / radius) * radius

    @property
    def reach(self) -> float:
        """How far the outline can extend, in radii, for sizing the patch it is painted on."""
        return float((1.0 + self.amplitudes.sum()) * math.sqrt(self.aspect))
