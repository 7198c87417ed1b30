"""PatchGAN discriminators on (semantic map, image) pairs, returning every block's activation.

The activations are returned, not just the logits, because DermGAN's feature-matching loss compares the
discriminator's second-to-last layer on real and synthetic pairs.
"""

from __future__ import annotations

import torch
from torch import nn

from dermgan.models.norm import NormKind, norm_layer

_KERNEL = 4


def _strides(n_layers: int) -> list[int]:
    """Strides of the blocks, in order: n_layers halving convs, a stride-1 conv, the stride-1 logit conv."""
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, not {n_layers}")
    return [2] * n_layers + [1, 1]


def receptive_field(n_layers: int) -> int:
    """Side in input pixels of the patch one output logit sees: 70 for pix2pix's n_layers=3."""
    field = 1
    for stride in reversed(_strides(n_layers)):
        field = (field - 1) * stride + _KERNEL
    return field


class PatchDiscriminator(nn.Module):
    """pix2pix's NLayerDiscriminator; the caller concatenates map and image, so in_channels = map + 3."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: NormKind = "batch"):
        super().__init__()
        strides = _strides(n_layers)
        widths = [ndf * min(2**block, 8) for block in range(n_layers + 1)] + [1]
        blocks = [
            nn.Sequential(
                nn.Conv2d(in_channels, widths[0], _KERNEL, stride=strides[0], padding=1),
                nn.LeakyReLU(0.2),
            )
        ]
        for block in range(1, n_layers + 1):
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(
                        widths[block - 1],
                        widths[block],
                        _KERNEL,
                        stride=strides[block],
                        padding=1,
                        bias=False,
                    ),
                    norm_layer(norm, widths[block]),
                    nn.LeakyReLU(0.2),
                )
            )
        blocks.append(nn.Conv2d(widths[-2], widths[-1], _KERNEL, stride=strides[-1], padding=1))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, pair: torch.Tensor) -> list[torch.Tensor]:
        """Each block's output, n_layers + 2 of them; the last is the patch logits (B x 1 x h x w)."""
        activations = []
        features = pair
        for block in self.blocks:
            features = block(features)
            activations.append(features)
        return activations


class MultiScaleDiscriminator(nn.Module):
    """pix2pixHD's pyramid: one PatchDiscriminator per scale, the input halved (average pool) between them."""

    def __init__(
        self,
        in_channels: int,
        ndf: int = 64,
        n_layers: int = 3,
        norm: NormKind = "batch",
        num_scales: int = 2,
    ):
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be >= 1, not {num_scales}")
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(in_channels, ndf, n_layers, norm) for _ in range(num_scales)
        )
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, pair: torch.Tensor) -> list[list[torch.Tensor]]:
        """Per scale, finest first, that scale's list of activations (see PatchDiscriminator.forward)."""
        outputs = []
        for scale, discriminator in enumerate(self.discriminators):
            if scale > 0:
                pair = self.downsample(pair)
            outputs.append(discriminator(pair))
        return outputs
