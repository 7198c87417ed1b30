"""Cached squares as network inputs: a plain dataset for evaluation and the seeded augmented stream.

The paper's augmentation (flips, brightness, contrast, saturation, hue) is drawn from a generator seeded
by the stream position, so a run gives the same batches whatever the loader workers and after a resume.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional

from dermgan.classification.cache import cached_images
from dermgan.classification.config import ClassifierConfig, ClassifierData
from dermgan.classification.examples import Example
from dermgan.classification.framing import Framing
from dermgan.classification.model import MEAN, STD, input_normalisation
from dermgan.data.splits import stable_seed
from dermgan.training.stream import EpochOrder


def load_square(path: Path) -> torch.Tensor:
    """A cached square as 3xHxW floats in [0, 1]."""
    with Image.open(path) as image:
        pixels = np.array(image.convert("RGB"))
    return torch.from_numpy(pixels).permute(2, 0, 1).float() / 255.0


class Normalise:
    """[0, 1] pixels -> the network's input: (image - mean) / std per channel."""

    def __init__(self, mean: Sequence[float] = MEAN, std: Sequence[float] = STD):
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


def _factor(generator: torch.Generator, spread: float) -> float:
    return 1.0 + spread * (2.0 * torch.rand(1, generator=generator).item() - 1.0)


def augment(image: torch.Tensor, generator: torch.Generator, data: ClassifierData) -> torch.Tensor:
    """Random flips (both axes: a skin photo has no up) and colour jitter, drawn from `generator`."""
    if data.flip:
        horizontal, vertical = (torch.rand(2, generator=generator) < 0.5).tolist()
        dims = [dim for dim, wanted in ((-1, horizontal), (-2, vertical)) if wanted]
        image = image.flip(dims) if dims else image
    image = functional.adjust_brightness(image, _factor(generator, data.brightness))
    image = functional.adjust_contrast(image, _factor(generator, data.contrast))
    image = functional.adjust_saturation(image, _factor(generator, data.saturation))
    if data.hue:
        image = functional.adjust_hue(
            image, data.hue * (2.0 * torch.rand(1, generator=generator).item() - 1.0)
        )
    return image.clamp(0.0, 1.0)


class LabelledImages(Dataset):
    """(normalised image, class index) of cached squares, unaugmented; `synthetic` marks generated ones."""

    def __init__(
        self,
        files: Sequence[Path],
        labels: Sequence[int],
        normalise: Normalise | None = None,
        synthetic: Sequence[bool] | None = None,
    ):
        self.files, self.labels = list(files), list(labels)
        self.normalise = normalise or Normalise()
        self.synthetic = list(synthetic) if synthetic is not None else [False] * len(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.normalise(load_square(self.files[index])), self.labels[index]


def labelled(
    examples: Sequence[Example], classes: Sequence[str], config: ClassifierConfig, progress: bool
) -> LabelledImages:
    """The examples' cached squares, framed as `data.input` says, with their class indices, normalised
    as the architecture's ImageNet weights expect."""
    data = config.data
    files = cached_images(
        [e.path for e in examples],
        data.size,
        data.cache or None,
        framing=Framing(data.input, data.roi_margin),
        boxes=[e.boxes for e in examples],
        progress=progress,
    )
    normalise = Normalise(*input_normalisation(config.model.arch))
    labels = [classes.index(e.condition) for e in examples]
    return LabelledImages(files, labels, normalise, [e.synthetic for e in examples])


def balancing_weights(labels: Sequence[int]) -> torch.Tensor:
    """1 / (images of the label) per image: every class is drawn equally often."""
    counts = Counter(labels)
    return torch.tensor([1.0 / counts[label] for label in labels], dtype=torch.double)


def capped_share(weights: torch.Tensor, synthetic: Sequence[bool], share: float) -> torch.Tensor | None:
    """`weights` with the synthetic images' total scaled down to `share` of all; None when their share
    is within it already (or there is nothing real to give the rest to)."""
    flags = torch.tensor(synthetic, dtype=torch.bool)
    synthetic_total, real_total = weights[flags].sum(), weights[~flags].sum()
    if real_total == 0 or synthetic_total <= share * (synthetic_total + real_total):
        return None
    scale = share * real_total / ((1.0 - share) * synthetic_total)
    return torch.where(flags, weights * scale, weights)


def sampling_weights(images: LabelledImages, data: ClassifierData) -> torch.Tensor | None:
    """Per-image draw weights (None: a plain shuffle): class-balanced, synthetic share capped."""
    weights = balancing_weights(images.labels) if data.balanced else None
    if data.synthetic_share is None:
        return weights
    base = torch.ones(len(images), dtype=torch.double) if weights is None else weights
    capped = capped_share(base, images.synthetic, data.synthetic_share)
    return weights if capped is None else capped


class TrainingStream(Dataset):
    """Indexable by stream position (see training/stream.py): seeded epoch order, seeded augmentation;
    yields (image, label, synthetic) so the loss can weigh synthetic images apart."""

    def __init__(self, images: LabelledImages, data: ClassifierData, seed: int):
        self.images, self.data, self.seed = images, data, seed
        self.order = EpochOrder(len(images), seed, sampling_weights(images, data))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, int, bool]:
        index = self.order(position)
        generator = torch.Generator().manual_seed(stable_seed(self.seed, "augment", position) % 2**63)
        image = augment(load_square(self.images.files[index]), generator, self.data)
        return self.images.normalise(image), self.images.labels[index], self.images.synthetic[index]
