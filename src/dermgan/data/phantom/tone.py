"""Skin colour per Fitzpatrick type, and lesion colours defined relative to it.

Healthy skin is drawn in CIELAB with its Individual Typology Angle (ITA) inside the type's band
(`dermgan.conditions.ITA_BANDS`), kept `ITA_MARGIN` degrees from the band's edges so that texture,
lighting and JPEG cannot push the measured tone of a photo into the neighbouring type.

Lesion colours are Lab offsets from the skin, blended between an offset for light skin and one for
dark skin: erythema that is bright red on type I skin becomes dusky violet-brown on type VI, and a
nevus gets darker on darker skin, as in real photos.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from skimage.color import lab2rgb

ITA_MARGIN = 2.5

# Per type: the ITA (degrees), a* (redness) and b* (yellowness) ranges healthy skin is drawn from.
# Each ITA range lies at least ITA_MARGIN inside its band; the open ends stop where real skin does.
SKIN_ITA: dict[int, tuple[float, float]] = {
    1: (58.0, 66.0),
    2: (43.5, 52.5),
    3: (30.5, 38.5),
    4: (21.5, 25.5),
    5: (12.5, 16.5),
    6: (-50.0, -15.0),
}
SKIN_A_STAR: dict[int, tuple[float, float]] = {
    1: (5, 9),
    2: (6, 10),
    3: (6, 11),
    4: (7, 12),
    5: (8, 12),
    6: (7, 12),
}
SKIN_B_STAR: dict[int, tuple[float, float]] = {
    1: (11, 15),
    2: (14, 19),
    3: (16, 21),
    4: (18, 23),
    5: (17, 22),
    6: (13, 20),
}

# Skin lightness (L*) that counts as fully light and fully dark when blending lesion colours.
LIGHT_SKIN_L, DARK_SKIN_L = 72.0, 42.0


def sample_skin_lab(skin_type: int, rng: np.random.Generator) -> np.ndarray:
    """A healthy skin colour (L*, a*, b*) whose ITA lies well inside the band of `skin_type`."""
    ita = rng.uniform(*SKIN_ITA[skin_type])
    a_star = rng.uniform(*SKIN_A_STAR[skin_type])
    b_star = rng.uniform(*SKIN_B_STAR[skin_type])
    lightness = 50.0 + b_star * math.tan(math.radians(ita))
    return np.array([lightness, a_star, b_star])


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (float32) of Lab colours shaped (..., 3); out-of-gamut values are clipped."""
    rgb = lab2rgb(np.asarray(lab, dtype=np.float64).reshape(-1, 1, 3))
    return rgb.reshape(np.shape(lab)).astype(np.float32)


def darkness(skin_lab: np.ndarray) -> float:
    """Where the skin sits between light (0) and dark (1), for blending tone-aware lesion colours."""
    return float(np.clip((LIGHT_SKIN_L - skin_lab[0]) / (LIGHT_SKIN_L - DARK_SKIN_L), 0.0, 1.0))


class Shift(NamedTuple):
    """A lesion colour as a Lab offset from the skin: one offset on light skin, one on dark skin."""

    on_light: tuple[float, float, float]
    on_dark: tuple[float, float, float]

    def lab(self, skin_lab: np.ndarray) -> np.ndarray:
        weight = darkness(skin_lab)
        offset = (1.0 - weight) * np.array(self.on_light) + weight * np.array(self.on_dark)
        lab = skin_lab + offset
        lab[0] = np.clip(lab[0], 3.0, 97.0)
        return lab


def shifted_rgb(skin_lab: np.ndarray, *shifts: Shift) -> np.ndarray:
    """The sRGB colours of several lesion colours on this skin, shaped (shift, 3, 1, 1): one column each
    to broadcast over a channel-first (3, h, w) image."""
    return lab_to_rgb(np.stack([shift.lab(skin_lab) for shift in shifts]))[:, :, None, None]
