"""Kernel Inception Distance (Binkowski et al., 2018): an unbiased MMD^2, usable where FID is not.

The cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets with the defaults of
torch-fidelity and the paper: 100 subsets of 1000 images. The spread over subsets is `std`. A set smaller
than the subset size is drawn in halves instead: subsets of all its images would all be the same set, with
a spread of 0 that says nothing about how far the mean can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


@dataclass(frozen=True)
class KernelDistance:
    mean: float
    std: float
    subsets: int
    subset_size: int


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> KernelDistance:
    """KID between two sets of feature rows; subsets are drawn without replacement from each set (half of
    the smaller set when it has fewer than `subset_size` images)."""
    smaller = min(len(real), len(fake))
    size = subset_size if subset_size <= smaller else max(2, smaller // 2)
    if size < 2:
        raise ValueError(f"KID needs at least 2 images per set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    values = [
        polynomial_mmd2(
            real[rng.choice(len(real), size, replace=False)], fake[rng.choice(len(fake), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return KernelDistance(float(np.mean(values)), float(np.std(values)), subsets, size)


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2: the within-set kernel means leave out the diagonal k(x_i, x_i)."""
    dim = x.shape[1]
    within_x = (x @ x.T / dim + 1) ** 3
    within_y = (y @ y.T / dim + 1) ** 3
    across = (x @ y.T / dim + 1) ** 3
    m, n = len(x), len(y)
    return float(
        (within_x.sum() - np.trace(within_x)) / (m * (m - 1))
        + (within_y.sum() - np.trace(within_y)) / (n * (n - 1))
        - 2 * across.mean()
    )
