"""Per-pixel noise added to decoder features: the generator's source of variation for one semantic map.

Without it the U-Net is a function of the map alone, so the L1 losses teach it the mean lesion of a box
(a smooth blob) and one map always paints the same lesion. StyleGAN's form (Karras et al., 2019,
section 3.2) is used rather than a noise map concatenated to the decoder input, because:
- one channel of N(0, 1) per pixel, scaled per feature channel by a learned weight, adds a single
  parameter per channel and leaves every conv as it is (a concatenated noise map widens the conv that
  reads it);
- the weights start at 0, so a generator with noise starts as the one without and uses only as much
  variation as the losses reward (pix2pix found a concatenated noise input simply learned to be ignored);
- added after the level's norm, the weight reads directly as a noise-to-feature ratio, and batch norm's
  running statistics are those of the noise-free features.
"""

from __future__ import annotations

import torch
from torch import nn


class NoiseInjection(nn.Module):
    """features + scale[c] * noise, with noise of shape B x 1 x H x W shared by the channels."""

    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, features: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """`noise` None draws it from torch's global RNG (training: the trainer seeds and checkpoints it)."""
        if noise is None:
            noise = torch.randn(features.shape[0], 1, *features.shape[-2:], device=features.device)
        return features + (self.scale * noise).to(features.dtype)


def per_image_noise(
    generators: list[torch.Generator], resolutions: tuple[int, ...], device: torch.device | None = None
) -> list[torch.Tensor]:
    """One B x 1 x r x r tensor per resolution; image i's noise comes from generators[i] alone.

    Drawn on the CPU, image by image and resolution by resolution, so an image's noise depends only on its
    generator: not on the batch it is in, its position there, or the device the generator runs on.
    """
    images = [[torch.randn(1, 1, r, r, generator=generator) for r in resolutions] for generator in generators]
    return [torch.cat(level).to(device) for level in zip(*images, strict=True)]
