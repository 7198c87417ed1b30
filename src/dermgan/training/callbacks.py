"""Measurements taken during training (e.g. a fidelity curve), plugged in from outside `training/`.

The trainer knows nothing of what a callback measures: it asks each callback whether a step is one of its
points, hands it the current generator and logs the numbers it returns in that step's metrics.jsonl line
(and TensorBoard). A measured step is always logged, so each point is one line; a resumed run drops the
lines after its checkpoint and measures those points again, so no point is logged twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from dermgan.models import UNetGenerator
from dermgan.training.config import Config


@dataclass(frozen=True)
class TrainingMoment:
    """What a callback sees at one of its steps."""

    step: int
    generator: UNetGenerator
    """The EMA generator when train.ema_decay > 0, else the trained one; in eval mode. Do not train it."""
    config: Config
    """The run's resolved config: data.path is the prepared folder, data.size the image size."""
    device: torch.device


class StepCallback(Protocol):
    """Called after the training step `step` when `due(step, max_steps)`; returns numbers to log then.

    Under torchrun every rank calls it (so it may share work across ranks, as feature extraction does);
    rank 0's numbers are the ones logged.
    """

    def due(self, step: int, max_steps: int) -> bool: ...

    def __call__(self, moment: TrainingMoment) -> dict[str, float]: ...


def evenly_spaced_steps(points: int, max_steps: int) -> set[int]:
    """`points` steps spread evenly over a run, the last one at max_steps (fewer if the run is shorter)."""
    return {max(1, round(max_steps * index / points)) for index in range(1, points + 1)}
