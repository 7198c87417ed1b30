"""The normalisation layers the networks may use, and pix2pix's rule for conv biases next to them."""

from __future__ import annotations

from typing import Literal, get_args

from torch import nn

NormKind = Literal["batch", "instance"]


def _checked(kind: str) -> NormKind:
    if kind not in get_args(NormKind):
        raise ValueError(f"norm must be one of {get_args(NormKind)}, not {kind!r}")
    return kind  # type: ignore[return-value]


def norm_layer(kind: NormKind, channels: int) -> nn.Module:
    """Batch norm with learned affine, or pix2pix's instance norm (no affine, no running statistics)."""
    if _checked(kind) == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


def conv_bias(kind: NormKind) -> bool:
    """pix2pix's bias rule for the U-Net's convs that no norm follows: a bias only with instance norm.

    A conv that a norm follows never has one here (pix2pix gives it one with instance norm): the norm
    subtracts each channel's mean, so the bias never matters, gets a gradient of pure rounding noise, and
    Adam, which rescales gradients, turns that noise into a random walk of the bias.
    """
    return _checked(kind) == "instance"
