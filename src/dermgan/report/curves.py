"""Training curves from runs' metrics.jsonl: the losses that tell whether a GAN run went well, and the
fidelity curve (KID of the test twins) that tells whether its images got closer to real ones."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PANELS = {
    "discriminator": ("loss_d_real", "loss_d_fake"),
    "generator, adversarial": ("loss_g_gan",),
    "generator, reconstruction": ("loss_g_l1", "loss_g_roi", "loss_g_fm"),
}
"""One panel per scale: the adversarial losses hover near 0.7, the L1 terms fall from about 0.2."""


def read_metrics(path: Path) -> dict[str, np.ndarray]:
    """Each logged key as an array over the logged steps (NaN where a line lacks it)."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    keys = {key for line in lines for key in line}
    return {key: np.array([line.get(key, np.nan) for line in lines], dtype=float) for key in keys}


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def training_curves_png(metrics_file: Path) -> bytes | None:
    """A PNG with the raw losses (faint) and their moving average over about 1/20 of the run; None when
    the file holds no logged step yet."""
    metrics = read_metrics(metrics_file)
    if "step" not in metrics:
        return None
    steps = metrics["step"]
    window = max(1, len(steps) // 20)
    figure = Figure(figsize=(10, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    for axes, (title, keys) in zip(figure.subplots(1, len(PANELS)), PANELS.items(), strict=True):
        for key in keys:
            if key not in metrics:
                continue
            (line,) = axes.plot(steps, metrics[key], alpha=0.25, linewidth=0.8)
            smooth = _smooth(metrics[key], window)
            axes.plot(steps[len(steps) - len(smooth) :], smooth, color=line.get_color(), label=key[5:])
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("step")
        axes.legend(fontsize=8)
    return _png(figure)


def fidelity_curve_png(metrics_files: dict[str, Path]) -> bytes | None:
    """KID of the test twins against the step, one line per run (label -> metrics.jsonl), its +/- std
    shaded; None when no run logged KID (trained without the fidelity curve)."""
    curves = {}
    for label, path in metrics_files.items():
        metrics = read_metrics(path) if path.is_file() else {}
        if "kid" in metrics:
            measured = ~np.isnan(metrics["kid"])
            curves[label] = [metrics[key][measured] for key in ("step", "kid", "kid_std")]
    if not curves:
        return None
    figure = Figure(figsize=(6, 3.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for label, (steps, kid, spread) in curves.items():
        (line,) = axes.plot(steps, kid, marker="o", label=label)
        axes.fill_between(steps, kid - spread, kid + spread, color=line.get_color(), alpha=0.15)
    axes.set_xlabel("step")
    axes.set_ylabel("KID of the test twins (lower is better)")
    axes.legend(fontsize=8)
    return _png(figure)
