"""The classifier's config: the same YAML + `--set section.key=value` machinery as the GAN's, other keys.

Defaults follow the paper's classifier (MobileNet at 224 px, flips and colour jitter); `data.size=64`
makes it practical on a CPU.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dermgan.training.config import Section


class ClassifierData(Section):
    size: int = Field(224, ge=32)
    flip: bool = True
    brightness: float = Field(0.2, ge=0.0, lt=1.0)
    contrast: float = Field(0.2, ge=0.0, lt=1.0)
    saturation: float = Field(0.2, ge=0.0, lt=1.0)
    hue: float = Field(0.02, ge=0.0, le=0.5)
    balanced: bool = False
    """Draw training images with probability 1 / (images of their class): every class equally often."""
    max_train_images: dict[str, int] = Field(default_factory=dict)
    """condition -> keep at most this many real training images of it (a seeded choice): makes a class
    rare on purpose, e.g. `--set 'data.max_train_images={melanoma: 10}'`."""
    cache: str = ""
    """Folder of resized images (default: ~/.cache/dermgan/resized)."""


class ClassifierModel(Section):
    arch: Literal["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"] = "mobilenet_v2"
    dropout: float = Field(0.2, ge=0.0, lt=1.0)


class ClassifierTrain(Section):
    epochs: float = Field(30.0, gt=0.0)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    seed: int = 0
    log_every: int = Field(10, ge=1)
    checkpoint_every: int = Field(200, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    num_workers: int = Field(2, ge=0)


class ClassifierConfig(Section):
    data: ClassifierData = Field(default_factory=ClassifierData)
    model: ClassifierModel = Field(default_factory=ClassifierModel)
    train: ClassifierTrain = Field(default_factory=ClassifierTrain)
