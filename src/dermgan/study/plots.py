"""The study's figure: per condition, the mean real and synthetic rates with std error bars (Fig. 7)."""

from __future__ import annotations

import io
import math
import os
import textwrap

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
    """Grouped bars, real beside synthetic, one group per condition and one for all; whiskers = std.

    A rate nobody has answered yet has no bar (and "n/a" where it would stand), never a bar at zero;
    whiskers stop at 0 and 1, the bounds of a rate.
    """
    summaries = results.conditions
    figure = Figure(figsize=(max(6.0, 1.1 * len(summaries) + 2), 4.4), dpi=110)
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    width = 0.38
    real_label, synthetic_label = RATE_LABELS[results.kind]
    series = [
        (real_label, [s.real_mean for s in summaries], [s.real_std for s in summaries]),
        (synthetic_label, [s.synthetic_mean for s in summaries], [s.synthetic_std for s in summaries]),
    ]
    for offset, colour, (name, means, stds) in zip((-width / 2, width / 2), COLOURS, series, strict=True):
        places = [index + offset for index in range(len(summaries))]
        heights = [math.nan if mean is None else mean for mean in means]
        low = [0.0 if mean is None else min(std or 0.0, mean) for mean, std in zip(means, stds, strict=True)]
        high = [
            0.0 if mean is None else min(std or 0.0, 1 - mean) for mean, std in zip(means, stds, strict=True)
        ]
        axis.bar(places, heights, width, yerr=[low, high], capsize=4, color=colour, label=name)
        for place, mean in zip(places, means, strict=True):
            if mean is None:
                axis.text(place, 0.02, "n/a", ha="center", va="bottom", fontsize=8, color="#666666")
    labels = [f"{textwrap.fill(s.condition, 14)}\nn = {s.n_participants}" for s in summaries]
    axis.set_xticks(range(len(summaries)), labels, fontsize=9)
    axis.set_ylim(0, 1.02)
    axis.set_ylabel("rate (mean ± std over participants)")
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False, fontsize=9)
    figure.suptitle(TITLES[results.kind], fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    save_png(Image.open(buffer).convert("RGB"), out)
