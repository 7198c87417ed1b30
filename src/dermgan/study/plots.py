"""The study's figure: per condition, the mean real and synthetic rates with std error bars (Fig. 7)."""

from __future__ import annotations

import io
import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from dermgan.files import save_png
from dermgan.study.scoring import RATE_LABELS, StudyResults

TITLES = {
    "turing": "Turing test: images judged real",
    "relevance": "Expert relevance: images recognised as showing their condition",
}
COLOURS = ("#4c72b0", "#dd8452")


def plot_rates(results: StudyResults, out: str | os.PathLike[str]) -> None:
    """Grouped bars, real beside synthetic, one group per condition and one for all; whiskers = std."""
    summaries = results.conditions
    figure = Figure(figsize=(max(6.0, 1.1 * len(summaries) + 2), 4.2), dpi=110)
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    width = 0.38
    real_label, synthetic_label = RATE_LABELS[results.kind]
    series = [
        (real_label, [s.real_mean for s in summaries], [s.real_std for s in summaries]),
        (synthetic_label, [s.synthetic_mean for s in summaries], [s.synthetic_std for s in summaries]),
    ]
    for offset, colour, (name, means, stds) in zip((-width / 2, width / 2), COLOURS, series, strict=True):
        axis.bar(
            [index + offset for index in range(len(summaries))],
            [mean or 0.0 for mean in means],
            width,
            yerr=[std or 0.0 for std in stds],
            capsize=4,
            color=colour,
            label=name,
        )
    axis.set_xticks(range(len(summaries)), [s.condition for s in summaries], rotation=20, ha="right")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("rate (mean over participants)")
    axis.set_title(TITLES[results.kind], fontsize=10)
    axis.legend(loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    save_png(Image.open(buffer).convert("RGB"), out)
