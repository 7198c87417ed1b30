"""The spread of a metric over training seeds: mean +/- a Student t 95% interval.

One training run per model cannot tell a real difference between two models from the luck of their seeds;
a few seeds per model can, within this interval. With n seeds it is mean +/- t(0.975, n - 1) * s / sqrt(n),
s the sample standard deviation (n - 1 in the denominator): the t quantile, not 1.96, because n is small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import t as student_t

SEED_INTERVAL = "mean over seeds +/- t(0.975, n-1) x std / sqrt(n) (Student t 95% interval, n = seeds)"


def t_interval(values: Sequence[float]) -> tuple[float, float | None]:
    """(mean, half width of the 95% t-interval) of VALUES; no width with fewer than two values."""
    if not values:
        raise ValueError("t_interval needs at least one value")
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, None
    std = float(np.std(values, ddof=1))
    return mean, float(student_t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))
