"""The classifier network: torchvision's MobileNetV2 (the paper's) or MobileNetV3, or EfficientNet-Lite0,
from scratch, from a local weights file, or (EfficientNet-Lite0) from the ImageNet weights that the
`pretrained` extra installs. Nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torchvision import models

from dermgan.classification.config import ClassifierModel
from dermgan.classification.efficientnet import EfficientNetLite0
from dermgan.errors import UserError

ARCHITECTURES = {
    "mobilenet_v2": models.mobilenet_v2,
    "mobilenet_v3_small": models.mobilenet_v3_small,
    "mobilenet_v3_large": models.mobilenet_v3_large,
    "efficientnet_lite0": EfficientNetLite0,
}
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
"""ImageNet's normalisation, so that ImageNet weights given with --weights see what they were trained on."""
NORMALISATION = {"efficientnet_lite0": ((127 / 255,) * 3, (128 / 255,) * 3)}
"""Architectures whose ImageNet weights were trained on other inputs: TensorFlow's EfficientNet-Lite
takes (pixel - 127) / 128."""


def input_normalisation(arch: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per channel, for images in [0, 1], that the architecture's ImageNet weights expect."""
    return NORMALISATION.get(arch, (MEAN, STD))


def build_classifier(config: ClassifierModel, n_classes: int) -> nn.Module:
    return ARCHITECTURES[config.arch](num_classes=n_classes, dropout=config.dropout)


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"--weights {path} does not exist") from None
    except Exception as error:  # torch and safetensors raise many types for broken or unsafe files
        raise UserError(
            f"--weights {path} cannot be loaded safely: {str(error).splitlines()[0][:200]}"
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise UserError(f"--weights {path} holds no state dict of tensors")
    return state


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> tuple[int, list[str]]:
    """Copies every tensor of `path` whose name and shape match (an ImageNet head of another class count
    is left out); returns (tensors loaded, names left out). UserError when nothing matches."""
    path = Path(path)
    state = {name.removeprefix("module."): tensor for name, tensor in _read_state(path).items()}
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise UserError(f"--weights {path} has no tensor matching this {type(model).__name__}")
    model.load_state_dict(matching, strict=False)
    return len(matching), sorted(set(own) - set(matching))
