"""EfficientNet-Lite0 (Tan & Le, 2019; the Lite variant of TensorFlow's model garden): EfficientNet-B0
without squeeze-excitation, with ReLU6 and a stem (32) and head (1280) that do not scale.

Convolutions pad like TensorFlow's 'same' (a stride-2 layer pads one more pixel right and below than
left and above), as the ImageNet weights were trained with. Symmetric padding shifts every strided layer
by half a pixel: on four scikit-image photos it put 0.79 of the probability on the right ImageNet
classes instead of 0.85.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional
from torchvision.ops import StochasticDepth

BN_EPS = 1e-3
"""TensorFlow's batch-norm epsilon, which the ImageNet weights' statistics were computed with."""


@dataclass(frozen=True)
class Stage:
    """`repeats` blocks of one kernel and width; the first has `stride` and widens `inputs` to `outputs`."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    inputs: int
    outputs: int


LITE0_STAGES = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)
STEM, HEAD = 32, 1280


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: (before, after), the odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class ConvBN(nn.Module):
    """Convolution with 'same' padding, batch norm and (unless `act` is False) ReLU6; no bias."""

    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int = 1, groups: int = 1, act=True):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(inputs, outputs, kernel, stride, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(outputs, eps=BN_EPS)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], self.kernel, self.stride)
        left, right = same_padding(x.shape[-1], self.kernel, self.stride)
        return self.act(self.bn(self.conv(functional.pad(x, (left, right, top, bottom)))))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion (when `expand` > 1), depthwise k x k, linear 1x1 projection, and
    the input added back (randomly dropped per image while training) when the shape allows."""

    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int, expand: int, drop: float):
        super().__init__()
        hidden = inputs * expand
        self.expand = ConvBN(inputs, hidden, 1) if expand != 1 else nn.Identity()
        self.depthwise = ConvBN(hidden, hidden, kernel, stride, groups=hidden)
        self.project = ConvBN(hidden, outputs, 1, act=False)
        self.residual = stride == 1 and inputs == outputs
        self.drop = StochasticDepth(drop, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + self.drop(y) if self.residual else y


class EfficientNetLite0(nn.Module):
    """Images normalised as the weights expect (see `model.NORMALISATION`) -> class logits."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2, drop_connect: float = 0.2):
        super().__init__()
        self.stem = ConvBN(3, STEM, 3, 2)
        blocks, total = [], sum(stage.repeats for stage in LITE0_STAGES)
        for stage in LITE0_STAGES:
            for repeat in range(stage.repeats):
                blocks.append(
                    MBConv(
                        stage.inputs if repeat == 0 else stage.outputs,
                        stage.outputs,
                        stage.kernel,
                        stage.stride if repeat == 0 else 1,
                        stage.expand,
                        drop_connect * len(blocks) / total,
                    )
                )
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBN(LITE0_STAGES[-1].outputs, HEAD, 1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(HEAD, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(self.blocks(self.stem(x)))
        return self.classifier(features.mean(dim=(-2, -1)))
