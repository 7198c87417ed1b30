"""A fixed-seed sample grid (map | generated | real) drawn from the same held-out crops every time."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from dermgan.data.dataset import PreparedPairs
from dermgan.data.show import one_per_label_first
from dermgan.files import save_png

MIN_TILE = 128
"""Small crops are enlarged (nearest-neighbour, pixels stay visible) to at least this side for viewing."""


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Bx3xHxW in [-1, 1] -> BxHxWx3 uint8."""
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).cpu().numpy()


class SampleGrid:
    """Holds the maps and real images of a few crops; renders the generator's output beside them."""

    def __init__(self, pairs: PreparedPairs, count: int = 8):
        rows = pairs.rows
        indices = sorted(one_per_label_first([r["condition"] for r in rows], list(range(len(rows))), count))
        items = [pairs[i] for i in indices]
        self.maps = torch.stack([item.map for item in items])
        self.images = torch.stack([item.image for item in items])
        size = self.images.shape[-1]
        self.map_pictures = np.stack(
            [
                np.asarray(Image.open(pairs.root / rows[i]["map"]).convert("RGB").resize((size, size), 0))
                for i in indices
            ]
        )

    @torch.no_grad()
    def render(self, generator: torch.nn.Module, device: torch.device) -> np.ndarray:
        """HxWx3 uint8 grid, one crop per row: map | generated | real. The generator is left in eval mode.

        A generator with noise gets the same noise at every step (row i's from seed i), so grids compare
        across steps and drawing one leaves the training's random state alone.
        """
        generator.eval()
        seeded = [torch.Generator().manual_seed(row) for row in range(len(self.maps))]
        fake = generator(self.maps.to(device), generator.make_noise(seeded, device))
        rows = [
            np.concatenate([semantic, generated, real], axis=1)
            for semantic, generated, real in zip(
                self.map_pictures, to_uint8(fake), to_uint8(self.images), strict=True
            )
        ]
        grid = np.concatenate(rows, axis=0)
        zoom = max(1, MIN_TILE // self.images.shape[-1])
        return grid.repeat(zoom, axis=0).repeat(zoom, axis=1)

    def save(self, grid: np.ndarray, path) -> None:
        save_png(Image.fromarray(grid), path)
