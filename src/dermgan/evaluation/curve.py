"""A fidelity learning curve: KID of the test twins at a few points of a training run.

At each point the current generator renders up to `images` test crops from their own maps (the twins of
Table 1: the same maps `render_crops` draws) and KID compares them with the real crops. The real crops'
Inception features are extracted once per run (and cached on disk); each point costs one Inception pass
per twin (about 0.3 s on a CPU), so 100 twins at 4 points add about 2 minutes to a run. KID is the mean
over random halves of both sets, its `kid_std` the spread over those halves: a change between points
smaller than that is noise. FID joins it when there are MIN_IMAGES_FOR_FID twins or more (it is biased
on fewer).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from pydantic import BaseModel

from dermgan.data.dataset import PreparedPairs, map_tensor
from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork, extract_features, inception_network
from dermgan.evaluation.fid import MIN_IMAGES_FOR_FID
from dermgan.evaluation.frechet import frechet_distance_of_features
from dermgan.evaluation.kid import kernel_inception_distance
from dermgan.generation.maps import crop_spec
from dermgan.models import UNetGenerator
from dermgan.training.callbacks import TrainingMoment, evenly_spaced_steps
from dermgan.training.config import Config
from dermgan.training.samples import to_uint8

CURVE_POINTS = 4
CURVE_IMAGES = 100


class CurvePoint(BaseModel):
    """The numbers one point adds to its step's line of metrics.jsonl."""

    kid: float
    kid_std: float
    """Std of KID over random halves of the twins and of the real crops."""
    kid_images: int
    """Twins (and real test crops) compared."""
    fid: float | None = None
    """Only with MIN_IMAGES_FOR_FID twins or more."""


@dataclass(frozen=True)
class TestTwins:
    maps: torch.Tensor
    """The generator's inputs, one per chosen test crop."""
    real_features: np.ndarray
    """The chosen real test crops' features, in the same order."""


def measure_point(real: np.ndarray, fake: np.ndarray) -> CurvePoint:
    """KID over 100 random halves of both sets (FID too when there are enough images)."""
    count = min(len(real), len(fake))
    kid = kernel_inception_distance(real, fake)
    fid = frechet_distance_of_features(real, fake) if count >= MIN_IMAGES_FOR_FID else None
    return CurvePoint(kid=kid.mean, kid_std=kid.std, kid_images=count, fid=fid)


class FidelityCurve:
    """A training callback (training/callbacks.py): KID of up to `images` test twins at `points` steps
    spread evenly over the run, the last at its final step."""

    def __init__(
        self,
        points: int = CURVE_POINTS,
        images: int = CURVE_IMAGES,
        *,
        network: FeatureNetwork | None = None,
        cache: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        batch_size: int = 16,
    ) -> None:
        if points < 1:
            raise UserError(f"--curve-points {points}: give at least 1 (0 turns the curve off)")
        if images < 2:
            raise UserError(f"--curve-images {images}: KID needs at least 2")
        self.points, self.images, self.cache = points, images, cache
        self.workers, self.batch_size = workers, batch_size
        self._network = network
        self._twins: dict[tuple[str, int, str], TestTwins] = {}

    @property
    def network(self) -> FeatureNetwork:
        """The FID Inception unless another was given, loaded at the first point."""
        if self._network is None:
            self._network = inception_network()
        return self._network

    def due(self, step: int, max_steps: int) -> bool:
        return step in evenly_spaced_steps(self.points, max_steps)

    def __call__(self, moment: TrainingMoment) -> dict[str, float]:
        twins = self.test_twins(moment.config, moment.device)
        fake = self._features(self._render(moment.generator, twins.maps, moment.device), moment.device)
        return measure_point(twins.real_features, fake).model_dump(exclude_none=True)

    def test_twins(self, config: Config, device: torch.device) -> TestTwins:
        """The maps and real features of the chosen test crops, made once per dataset and image size."""
        key = (config.data.path, config.data.size, config.data.encoding)
        if key not in self._twins:
            pairs = PreparedPairs(config.data.path, "test")
            if len(pairs) < 2:
                raise UserError(f"{pairs.root} has {len(pairs)} test crop: the fidelity curve needs 2")
            rows = pairs.rows
            if len(rows) > self.images:
                chosen = np.random.default_rng(0).choice(len(rows), self.images, replace=False)
                rows = [rows[index] for index in sorted(chosen)]
            specs = [crop_spec(pairs.root, row, config.data.size) for row in rows]
            maps = [map_tensor(pairs.codebook, s.draw(pairs.codebook), config.data.encoding) for s in specs]
            real = extract_features(
                [pairs.root / row["image"] for row in rows],
                self.network,
                cache=self.cache,
                workers=self.workers,
                device=device,
                progress=False,
            )
            self._twins[key] = TestTwins(torch.stack(maps), real.values)
        return self._twins[key]

    @torch.no_grad()
    def _render(self, generator: UNetGenerator, maps: torch.Tensor, device: torch.device) -> np.ndarray:
        """Twin i draws its decoder noise (if any) from seed i: the same noise at every point, so the
        curve follows the weights alone, and training's own random stream is left untouched (a resumed
        run repeats it exactly)."""
        images = []
        for start in range(0, len(maps), self.batch_size):
            batch = maps[start : start + self.batch_size].to(device)
            seeds = [torch.Generator().manual_seed(start + offset) for offset in range(len(batch))]
            images.append(to_uint8(generator(batch, generator.make_noise(seeds, device))))
        return np.concatenate(images)

    def _features(self, images: np.ndarray, device: torch.device) -> np.ndarray:
        """The twins' features, through PNG files as `eval kid` reads them; kept out of the shared cache,
        where each point's images would pile up."""
        with tempfile.TemporaryDirectory(prefix="dermgan-curve-") as folder:
            paths = [Path(folder) / f"{index:04d}.png" for index in range(len(images))]
            for path, image in zip(paths, images, strict=True):
                Image.fromarray(image).save(path)
            features = extract_features(
                paths,
                self.network,
                cache=Path(folder) / "features",
                workers=self.workers,
                device=device,
                progress=False,
            )
        return features.values
