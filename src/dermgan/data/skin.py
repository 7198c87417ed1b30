"""Which pixels are skin, and the skin tone they show (ITA), measured in CIELAB.

The skin test is deliberately simple: skin is moderately saturated and orange-hued (red through
yellow) in CIELAB at every Fitzpatrick type, while walls, sheets and clothing are grey or other hues.
"""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

MIN_CHROMA = 6.0
HUE_RANGE_DEGREES = (10.0, 85.0)
LIGHTNESS_RANGE = (12.0, 97.0)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of an HxWx3 uint8 image."""
    return rgb2lab(rgb.astype(np.float32) / 255.0)


def skin_mask(lab: np.ndarray) -> np.ndarray:
    """Boolean HxW mask of skin-coloured pixels."""
    lightness, a_star, b_star = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a_star, b_star)
    hue = np.degrees(np.arctan2(b_star, a_star))
    return (
        (chroma >= MIN_CHROMA)
        & (hue >= HUE_RANGE_DEGREES[0])
        & (hue <= HUE_RANGE_DEGREES[1])
        & (lightness >= LIGHTNESS_RANGE[0])
        & (lightness <= LIGHTNESS_RANGE[1])
    )


def estimate_ita(rgb: np.ndarray, exclude: np.ndarray | None = None) -> float | None:
    """ITA (degrees) of healthy skin: median L* and b* over skin pixels outside `exclude` (e.g. the ROI).

    None when no skin pixel is left. The median makes hair, pores and specular spots irrelevant.
    """
    lab = to_lab(rgb)
    mask = skin_mask(lab)
    if exclude is not None:
        mask &= ~exclude
    if not mask.any():
        return None
    lightness = float(np.median(lab[..., 0][mask]))
    b_star = float(np.median(lab[..., 2][mask]))
    return float(np.degrees(np.arctan2(lightness - 50.0, b_star)))
