"""The classifier's config: the same YAML + `--set section.key=value` machinery as the GAN's, other keys.

Defaults follow the paper's classifier (MobileNet at 224 px on whole photos, flips and colour jitter);
`model.arch=efficientnet_lite0 model.pretrained=true data.input=roi data.size=64` is the setting the
demo measured best on a CPU (see the README's classifier section).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dermgan.training.config import Section


class ClassifierData(Section):
    size: int = Field(224, ge=32)
    input: Literal["photo", "roi"] = "photo"
    """What the network sees, at size x size: `photo` the whole photo squeezed to a square (the paper's
    input), `roi` a square around the photo's largest group of adjacent ROI boxes, cut from the photo at
    full resolution (framing.py; the boxes are used at test time too, and a photo without boxes is seen
    whole)."""
    roi_margin: float = Field(0.9, ge=0.0)
    """`roi` window side = (1 + roi_margin) x the group's longer side, at least a fifth of the photo's
    shorter side: the middle of `data prepare`'s random margins, so real crops frame a lesion as the
    generator's images do."""
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
    max_synthetic_images: dict[str, int] = Field(default_factory=dict)
    """condition -> use at most this many of --extra's images of it (a seeded choice, the first n of one
    order, so a larger count holds a smaller one): the points of a dose-response curve from one pool."""
    reserve_images: dict[str, int] = Field(default_factory=dict)
    """condition -> add this many held-back real photos of it (split `reserve`, see `data prepare
    --hold-back`) to training: what the same number of real photos would have done."""
    synthetic_only: bool = False
    """Train on --extra's synthetic images alone (validated and tested on real photos)."""
    synthetic_share: float | None = Field(None, gt=0.0, lt=1.0)
    """At most this share of the drawn training images is synthetic (in expectation, per batch): the
    synthetic images are drawn less often, so that classes without them are not crowded out."""
    cache: str = ""
    """Folder of resized images (default: ~/.cache/dermgan/resized)."""


class ClassifierModel(Section):
    arch: Literal["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_lite0"] = (
        "mobilenet_v2"
    )
    pretrained: bool = False
    """Start from ImageNet weights installed with the `pretrained` extra (efficientnet_lite0 only; Apache-2.0,
    ImageNet-1k). `--weights FILE` loads local weights of any architecture instead."""
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
    synthetic_loss_weight: float = Field(1.0, ge=0.0)
    """The cross-entropy weight of a synthetic image relative to a real one's 1."""
    patience: int = Field(0, ge=0)
    """Stop when validation top-1 has not risen for this many epochs (0: train every epoch). Either way
    validation top-1 is measured after every epoch and the classifier kept is the best epoch's."""


class ClassifierConfig(Section):
    data: ClassifierData = Field(default_factory=ClassifierData)
    model: ClassifierModel = Field(default_factory=ClassifierModel)
    train: ClassifierTrain = Field(default_factory=ClassifierTrain)

    @model_validator(mode="after")
    def _pretrained_exists(self) -> ClassifierConfig:
        if self.model.pretrained and self.model.arch != "efficientnet_lite0":
            raise ValueError(
                f"model.pretrained=true: only efficientnet_lite0 has installable ImageNet weights, not "
                f"{self.model.arch}; set model.arch=efficientnet_lite0, or give local weights with "
                "--weights FILE"
            )
        return self
