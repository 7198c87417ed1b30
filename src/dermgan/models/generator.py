"""DermGAN's generator: pix2pix's U-Net (`unet_256`), its depth following the image size.

The paper's one change to the architecture is the decoder's upsampling: nearest-neighbour resize followed
by a 3x3 conv (`resize_conv`) instead of a transposed conv, whose uneven kernel overlap paints checkerboard
patterns (Odena et al., 2016). `transposed` restores pix2pix for the ablation.

Layout per level i (0 = outermost), mirroring pix2pix's nested UnetSkipConnectionBlock:
- encoder[i]: [LeakyReLU(0.2)] Conv(k4, s2, p1) [norm]; no activation on the first level, no norm on the
  first and the innermost (so a 1x1 bottleneck works at batch 1);
- decoder, innermost first: ReLU, upsample x2, then norm (+ dropout on the inner 8*ngf levels), or Tanh on
  the outermost; every level but the innermost reads its encoder twin's output concatenated to the input.

`padding` is the convs' border rule. pix2pix pads with zeros; a semantic map is constant away from its
boxes, so the zeros are the only thing that varies there, and every level learns a frame of its own width
along the image border (nested squares in the background). `reflect` (pix2pixHD's choice) removes them.

`noise_resolutions` (default none) adds learned per-pixel noise (models/noise.py) to the output of the
decoder levels of those sides in pixels (2 up to size / 2): the generator's only source of variation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from dermgan.models.noise import NoiseInjection, per_image_noise
from dermgan.models.norm import NormKind, conv_bias, norm_layer
from dermgan.models.resize_conv import ResizeConv2d

UpsampleMode = Literal["resize_conv", "transposed"]
PaddingMode = Literal["zeros", "reflect", "replicate"]

MIN_SIZE = 32
# pix2pix puts dropout only in the 8*ngf blocks between these outer levels and the innermost one.
_OUTER_LEVELS_WITHOUT_DROPOUT = 4


def size_problem(size: int) -> str | None:
    """Why the U-Net cannot take `size` (None when it can): its log2(size) halvings must end at 1x1.
    The one statement of the rule, which the config, the demo and the network all apply."""
    if size < MIN_SIZE or size & (size - 1):
        return f"must be a power of two of at least {MIN_SIZE} (32, 64, 128, 256, ...), not {size}"
    return None


def unet_depth(size: int) -> int:
    """Number of down levels that bring `size` to a 1x1 bottleneck: log2(size)."""
    problem = size_problem(size)
    if problem:
        raise ValueError(f"generator size {problem}")
    return int(math.log2(size))


def noise_resolutions_for(size: int) -> list[int]:
    """Sides of the decoder levels that can take noise: every one but the image itself (2 ... size / 2)."""
    return [2**exponent for exponent in range(1, unet_depth(size))]


def _upsample(
    in_channels: int, out_channels: int, mode: UpsampleMode, bias: bool, padding: PaddingMode = "zeros"
) -> nn.Module:
    if mode == "resize_conv":
        return ResizeConv2d(in_channels, out_channels, bias=bias, padding_mode=padding)
    if mode == "transposed":
        return nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=bias)
    raise ValueError(f"upsample must be 'resize_conv' or 'transposed', not {mode!r}")


class UNetGenerator(nn.Module):
    """Semantic map (B x in_channels x size x size) -> image (B x out_channels x size x size) in [-1, 1]."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        size: int = 256,
        ngf: int = 64,
        upsample: UpsampleMode = "resize_conv",
        norm: NormKind = "batch",
        dropout: float = 0.5,
        padding: PaddingMode = "zeros",
        noise_resolutions: Sequence[int] = (),
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {dropout}")
        self.depth = unet_depth(size)
        unknown = sorted(set(noise_resolutions) - set(noise_resolutions_for(size)))
        if unknown:
            raise ValueError(
                f"noise resolutions {unknown} are not decoder levels of a {size} px generator: "
                f"pick from {noise_resolutions_for(size)}"
            )
        self.noise_resolutions = tuple(sorted(set(noise_resolutions)))
        bias = conv_bias(norm)
        innermost = self.depth - 1
        # Output channels of each encoder level: ngf, 2ngf, 4ngf, then 8ngf down to the bottleneck.
        widths = [ngf * min(2**level, 8) for level in range(self.depth)]

        encoder = [
            nn.Conv2d(
                in_channels, widths[0], kernel_size=4, stride=2, padding=1, bias=bias, padding_mode=padding
            )
        ]
        for level in range(1, self.depth):
            layers = [
                nn.LeakyReLU(0.2),
                nn.Conv2d(
                    widths[level - 1],
                    widths[level],
                    kernel_size=4,
                    stride=2,
                    padding=1,
                    bias=level == innermost and bias,
                    padding_mode=padding,
                ),
            ]
            if level != innermost:
                layers.append(norm_layer(norm, widths[level]))
            encoder.append(nn.Sequential(*layers))

        decoder = []
        for level in reversed(range(self.depth)):
            reads = widths[level] if level == innermost else 2 * widths[level]
            if level == 0:
                layers = [
                    nn.ReLU(),
                    _upsample(reads, out_channels, upsample, bias=True, padding=padding),
                    nn.Tanh(),
                ]
            else:
                layers = [
                    nn.ReLU(),
                    _upsample(reads, widths[level - 1], upsample, bias=False, padding=padding),
                    norm_layer(norm, widths[level - 1]),
                ]
                if dropout > 0 and _OUTER_LEVELS_WITHOUT_DROPOUT <= level < innermost:
                    layers.append(nn.Dropout(dropout))
            decoder.append(nn.Sequential(*layers))

        self.encoder = nn.ModuleList(encoder)
        self.decoder = nn.ModuleList(decoder)
        # The decoder level of side s (level depth - log2 s) outputs widths[level - 1] channels.
        self.noise = nn.ModuleDict(
            {
                str(side): NoiseInjection(widths[self.depth - int(math.log2(side)) - 1])
                for side in self.noise_resolutions
            }
        )

    def make_noise(
        self, generators: Sequence[torch.Generator], device: torch.device | None = None
    ) -> list[torch.Tensor]:
        """forward's `noise` for a batch whose image i draws from generators[i] only (empty without noise)."""
        return per_image_noise(list(generators), self.noise_resolutions, device)

    def _add_noise(self, features: torch.Tensor, side: int, given: dict[int, torch.Tensor]) -> torch.Tensor:
        if side not in self.noise_resolutions:
            return features
        return self.noise[str(side)](features, given.get(side))

    def forward(
        self, semantic_map: torch.Tensor, noise: Sequence[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """`noise`: one tensor per noise resolution, from make_noise; None draws it from the global RNG."""
        multiple = 2**self.depth
        if semantic_map.shape[-2] % multiple or semantic_map.shape[-1] % multiple:
            raise ValueError(
                f"generator input of {self.depth} levels needs height and width divisible by {multiple}, "
                f"got {tuple(semantic_map.shape[-2:])}"
            )
        skips = []
        features = semantic_map
        for down in self.encoder:
            features = down(features)
            skips.append(features)
        given = dict(zip(self.noise_resolutions, noise, strict=True)) if noise is not None else {}
        # decoder[k - 1] (innermost first) outputs side 2 ** k at the generator's own size.
        features = self._add_noise(self.decoder[0](skips.pop()), 2, given)
        for k, (up, skip) in enumerate(zip(self.decoder[1:], reversed(skips), strict=True), start=2):
            features = self._add_noise(up(torch.cat([skip, features], dim=1)), 2**k, given)
        return features
