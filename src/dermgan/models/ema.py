"""Exponential moving average of a network's weights, a smoother generator to sample from.

A small class rather than torch's AveragedModel: its first update copies the model instead of averaging,
and the shadow here is a plain copy of the network, so its state dict loads into a fresh generator.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class EMA:
    """shadow <- decay * shadow + (1 - decay) * model after each update; buffers (BN statistics) copied."""

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), not {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Moves the shadow weights toward `model`'s (the same architecture, possibly DDP-wrapped)."""
        weight = 1.0 - self.decay
        for shadow, live in zip(self.module.parameters(), model.parameters(), strict=True):
            shadow.lerp_(live.detach(), weight)
        for shadow, live in zip(self.module.buffers(), model.buffers(), strict=True):
            shadow.copy_(live)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)
