"""Spectral normalisation of a network's convolutions (Miyato et al., 2018), for the discriminator.

Each conv's weight is used divided by an estimate of its largest singular value, kept by one step of
power iteration per forward in training mode, so every conv is 1-Lipschitz and the discriminator cannot
sharpen its decision without bound: the usual cure when it wins outright (d_g_balance towards 0).
torch's parametrization keeps the raw weight as `parametrizations.weight.original` and the power
iteration's vectors as buffers, so checkpoints, DDP (which broadcasts buffers) and resumption carry them.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def spectral_norm_convs(module: nn.Module) -> nn.Module:
    """Puts spectral norm on every Conv2d of `module`, in place; returns `module`.

    Apply it after weight init: `layer.weight` is then recomputed from the raw weight at every access,
    so an init written to it is lost.
    """
    for layer in list(module.modules()):
        if isinstance(layer, nn.Conv2d):
            spectral_norm(layer)
    return module
