"""A released generator ready to turn MapSpecs into images, in inference mode and in batches.

By default the generator runs as in evaluation: batch norm with its running statistics and no dropout,
so an image depends only on its map, never on the batch it is in or its size. pix2pix keeps dropout on at
test time as its only source of variety, which its users find confusing; `stochastic=True` offers that
back, with each image's dropout seeded by its own seed (the images then run one by one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dermgan.data.dataset import map_tensor
from dermgan.data.semantic_map import Codebook
from dermgan.generation.maps import MapSpec
from dermgan.training.release import WEIGHTS, generator_sha256, load_generator
from dermgan.training.samples import to_uint8


class Synthesizer:
    """The generator of a run directory (or its generator.safetensors), its codebook and its sha256."""

    def __init__(self, model: str | os.PathLike[str], device: torch.device | None = None):
        path = Path(model)
        self.generator, self.info = load_generator(path)
        self.device = device or torch.device("cpu")
        self.generator.to(self.device)
        weights = path / WEIGHTS if path.is_dir() else path
        self.sha256 = generator_sha256(weights)

    @property
    def size(self) -> int:
        return self.info.config.data.size

    @property
    def codebook(self) -> Codebook:
        return self.info.codebook

    def maps(self, specs: Sequence[MapSpec]) -> torch.Tensor:
        encoding = self.info.config.data.encoding
        return torch.stack([map_tensor(self.codebook, spec.draw(self.codebook), encoding) for spec in specs])

    @torch.inference_mode()
    def render(
        self, specs: Sequence[MapSpec], seeds: Sequence[int] = (), stochastic: bool = False
    ) -> np.ndarray:
        """B x H x W x 3 uint8 images, one per spec; `seeds` (one per spec) matter only when stochastic."""
        maps = self.maps(specs).to(self.device)
        self.generator.eval()
        if not stochastic:
            return to_uint8(self.generator(maps))
        if len(seeds) != len(specs):
            raise ValueError("stochastic generation needs one seed per map")
        dropouts = [m for m in self.generator.modules() if isinstance(m, nn.Dropout)]
        for dropout in dropouts:
            dropout.train()
        try:
            images = []
            for one_map, seed in zip(maps, seeds, strict=True):
                torch.manual_seed(seed)
                images.append(self.generator(one_map.unsqueeze(0)))
        finally:
            for dropout in dropouts:
                dropout.eval()
        return to_uint8(torch.cat(images))
