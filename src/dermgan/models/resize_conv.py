"""Nearest-neighbour x2 upsampling then a 3x3 convolution, folded into one transposed conv where that pays.

Every output pixel of conv3x3(upsample(x)) reads a 2x2 patch of x, with the 3x3 taps summed by the
pixel's parity: along each axis, even outputs weigh x[m-1], x[m] by w0, w1+w2 and odd ones x[m], x[m+1]
by w0+w1, w2. That is a transposed conv (kernel 4, stride 2, padding 1) with the 1-D kernel
[w2, w1+w2, w0+w1, w0] on each axis: the same numbers at 4/9 of the multiply-adds, without the 4x
larger upsampled input. Folding costs a pass over the weights, so small inputs (the U-Net's deep,
wide levels) are upsampled and convolved as written. The learned parameters stay the 3x3 kernel, whose
folded form keeps the even overlap that avoids checkerboard artefacts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _fold_axis(weight: torch.Tensor, dim: int) -> torch.Tensor:
    first, middle, last = weight.unbind(dim)
    return torch.stack([last, middle + last, first + middle, first], dim)


class ResizeConv2d(nn.Conv2d):
    """Same parameters as nn.Conv2d(in, out, 3, padding=1); forward(x) = that conv of x upsampled x2.

    With a `padding_mode` other than zeros (reflect or replicate: the same on an upsampled input), the
    transposed conv only crops its output: x is replicated by one pixel first."""

    fold_from_pixels = 256
    """Inputs with at least this many pixels (batch x height x width) take the folded transposed conv:
    below it, on CPUs, the pass over the weights costs more than the multiply-adds it saves."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, padding_mode: str = "zeros"):
        super().__init__(
            in_channels, out_channels, kernel_size=3, padding=1, bias=bias, padding_mode=padding_mode
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] * x.shape[-2] * x.shape[-1] < self.fold_from_pixels:
            return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))
        folded = _fold_axis(_fold_axis(self.weight.transpose(0, 1), -2), -1)
        if self.padding_mode == "zeros":
            return F.conv_transpose2d(x, folded, self.bias, stride=2, padding=1)
        # Reflecting the upsampled input by one pixel repeats its edge pixel, which is replicating x by one
        # pixel before upsampling; the transposed conv then crops the two extra output pixels on each side.
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        return F.conv_transpose2d(padded, folded, self.bias, stride=2, padding=3)
