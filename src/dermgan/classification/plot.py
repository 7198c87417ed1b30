"""The paper's Fig. 8 (F1 per condition of the baseline and the augmented classifier, with 95% intervals)
and a run's learning curve."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dermgan.files import atomic_path

if TYPE_CHECKING:  # compare.py draws through this module
    from dermgan.classification.compare import CompareResult
    from dermgan.classification.metrics import Estimate
    from dermgan.classification.trainer import EpochScore


def _whiskers(estimates: list[Estimate]) -> np.ndarray:
    """2 x n distances below and above each value (0 where there is no interval)."""
    below = [e.value - e.low if e.low is not None else 0.0 for e in estimates]
    above = [e.high - e.value if e.high is not None else 0.0 for e in estimates]
    return np.array([below, above])


def plot_f1(result: CompareResult, path: str | os.PathLike[str]) -> None:
    rows = result.per_class
    positions = np.arange(len(rows))
    figure = Figure(figsize=(7, 0.55 * len(rows) + 1.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    runs = (
        (-0.2, "baseline", [row.f1.baseline for row in rows], result.n_synthetic_baseline, "#8c8c8c"),
        (0.2, "augmented", [row.f1.augmented for row in rows], result.n_synthetic_augmented, "#d95f02"),
    )
    for offset, name, estimates, n_synthetic, color in runs:
        axes.barh(
            positions + offset,
            [e.value for e in estimates],
            height=0.4,
            xerr=_whiskers(estimates),
            color=color,
            capsize=3,
            label=f"{name} ({n_synthetic} synthetic training images)",
        )
    axes.set_yticks(positions, [f"{row.condition} (n={row.support})" for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel(f"F1 on {result.n_images} {result.split} images (95% bootstrap interval)")
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)  # above the bars, never on them
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")


def plot_learning_curve(
    curve: list[EpochScore], best: EpochScore | None, path: str | os.PathLike[str]
) -> None:
    """Validation top-1 after each epoch (left axis), the kept (best) epoch ringed, and the epoch's mean
    training loss (right axis)."""
    figure = Figure(figsize=(6, 3.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = [point.epoch for point in curve]
    axes.plot(epochs, [p.val_top1 for p in curve], marker="o", color="#1b9e77", label="validation top-1")
    if best is not None:
        axes.scatter([best.epoch], [best.val_top1], s=140, facecolors="none", edgecolors="#d95f02", zorder=3)
        axes.set_title(
            f"kept: epoch {best.epoch:g}, validation top-1 {best.val_top1:.3f}", color="#d95f02", fontsize=10
        )
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation top-1")
    axes.grid(alpha=0.3)
    losses = [(point.epoch, point.loss) for point in curve if point.loss is not None]
    if losses:
        right = axes.twinx()
        right.plot(*zip(*losses, strict=True), linestyle="--", color="#7570b3", label="training loss")
        right.set_ylabel("training loss (dashed)")
        right.set_ylim(bottom=0)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
