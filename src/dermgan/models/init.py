"""pix2pix's "normal" weight init, which its training recipe (lr 2e-4, Adam betas 0.5) was tuned with."""

from __future__ import annotations

from torch import nn

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm2d, nn.SyncBatchNorm, nn.InstanceNorm2d, nn.GroupNorm)


def init_weights(module: nn.Module, gain: float = 0.02) -> nn.Module:
    """Conv/linear weights ~ N(0, gain), affine norm scales ~ N(1, gain), every bias 0; returns `module`."""
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED):
            mean = 0.0
        elif isinstance(layer, _NORMS) and layer.affine:
            mean = 1.0
        else:
            continue
        nn.init.normal_(layer.weight, mean, gain)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return module
