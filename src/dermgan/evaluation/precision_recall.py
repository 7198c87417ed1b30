"""Improved precision and recall (Kynkaanniemi et al., 2019): FID in two numbers, fidelity and coverage.

Each set's manifold is the union of balls around its points, each reaching the point's k-th nearest
neighbour in the same set. Precision = share of fake points inside the real manifold (are the images
realistic?); recall = share of real points inside the fake manifold (is the real variety covered?).
"""

from __future__ import annotations

import numpy as np
import torch

NEIGHBOURHOOD = 3
ROWS_PER_BLOCK = 1024


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = NEIGHBOURHOOD) -> tuple[float, float]:
    """(precision, recall) of the fake feature rows against the real ones; each set needs more than k rows."""
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} images per set")
    real_t, fake_t = torch.as_tensor(real, dtype=torch.float32), torch.as_tensor(fake, dtype=torch.float32)
    return (
        _share_inside(fake_t, real_t, _kth_neighbour_distances(real_t, k)),
        _share_inside(real_t, fake_t, _kth_neighbour_distances(fake_t, k)),
    )


def _kth_neighbour_distances(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest other point (the (k+1)-th smallest, counting itself)."""
    return torch.cat(
        [torch.cdist(block, points).kthvalue(k + 1, dim=1).values for block in points.split(ROWS_PER_BLOCK)]
    )


def _share_inside(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> float:
    """Fraction of queries within radius of at least one centre."""
    inside = [(torch.cdist(block, centres) <= radii).any(dim=1) for block in queries.split(ROWS_PER_BLOCK)]
    return torch.cat(inside).float().mean().item()
