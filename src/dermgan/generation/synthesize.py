"""A released generator ready to turn MapSpecs into images, in inference mode and in batches.

By default the generator runs as in evaluation: batch norm with its running statistics and no dropout,
so an image depends only on its map, never on the batch it is in or its size. pix2pix keeps dropout on at
test time as its only source of variety, which its users find confusing; `stochastic=True` offers that
back, with each image's dropout seeded by its own seed (the images then run one by one). A generator with
decoder noise (model.noise_resolutions) draws each image's noise from that image's seed, in one batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        """B x H x W x 3 uint8 images, one per spec; `seeds` (one per spec) matter only when the generator
        has a source of randomness: dropout kept on (`stochastic`) or a noise input."""
        maps = self.maps(specs).to(self.device)
        self.generator.eval()
        if self.generator.noise_resolutions and not stochastic:
            return to_uint8(self.generator(maps, self._noise(seeds, len(specs))))
        if not stochastic:
            return to_uint8(self.generator(maps))
        if len(seeds) != len(specs):
            raise ValueError("stochastic generation needs one seed per map")
        dropouts = [m for m in self.generator.modules() if isinstance(m, nn.Dropout)]
        for dropout in dropouts:
            dropout.train()
        try:
            with self._own_random_state():
                images = [self._seeded(one_map, seed) for one_map, seed in zip(maps, seeds, strict=True)]
        finally:
            for dropout in dropouts:
                dropout.eval()
        return to_uint8(torch.cat(images))

    def _seeded(self, one_map: torch.Tensor, seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        return self.generator(one_map.unsqueeze(0), self._noise([seed], 1))

    def _noise(self, seeds: Sequence[int], count: int) -> list[torch.Tensor]:
        """The decoder noise of each image from its own seed, so a batch runs as one yet each image depends
        on its seed alone; without seeds every image gets seed 0's, and a sweep shows only its maps."""
        seeds = list(seeds) or [0] * count
        if len(seeds) != count:
            raise ValueError(f"{count} maps need {count} seeds, not {len(seeds)}")
        return self.generator.make_noise([torch.Generator().manual_seed(seed) for seed in seeds], self.device)

    @contextmanager
    def _own_random_state(self) -> Iterator[None]:
        """Seeding per image leaves the caller's random state as it was."""
        cuda = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            yield
