"""Classification metrics with 95% bootstrap intervals over the test images.

Point values come from scikit-learn; intervals from scipy's bootstrap (percentile method), resampling
test images with replacement. Several predictions of the same images (baseline and augmented) are
resampled together (`paired`), so an interval of their difference accounts for their correlation.
The per-class statistics below are vectorised over resamples for the bootstrap; tests check that they
equal scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel
from scipy import stats

RESAMPLES = 2000
CONFIDENCE = 0.95

Statistic = Callable[..., np.ndarray]


class Estimate(BaseModel):
    """A value with its 95% bootstrap interval (None when there are too few images to resample)."""

    value: float
    low: float | None = None
    high: float | None = None

    def text(self, digits: int = 3) -> str:
        if self.low is None or self.high is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros(np.shape(numerator)), where=denominator > 0)


def _counts(truth: np.ndarray, predicted: np.ndarray, label: int, axis: int) -> tuple[np.ndarray, ...]:
    true_positive = ((truth == label) & (predicted == label)).sum(axis=axis)
    false_positive = ((truth != label) & (predicted == label)).sum(axis=axis)
    false_negative = ((truth == label) & (predicted != label)).sum(axis=axis)
    return true_positive, false_positive, false_negative


def precision_of(label: int) -> Statistic:
    def statistic(truth, predicted, axis=-1):
        tp, fp, _ = _counts(truth, predicted, label, axis)
        return _ratio(tp, tp + fp)

    return statistic


def recall_of(label: int) -> Statistic:
    def statistic(truth, predicted, axis=-1):
        tp, _, fn = _counts(truth, predicted, label, axis)
        return _ratio(tp, tp + fn)

    return statistic


def f1_of(label: int) -> Statistic:
    def statistic(truth, predicted, axis=-1):
        tp, fp, fn = _counts(truth, predicted, label, axis)
        return _ratio(2 * tp, 2 * tp + fp + fn)

    return statistic


def top1(truth: np.ndarray, predicted: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(truth == predicted, axis=axis)


def difference(statistic: Statistic) -> Statistic:
    """statistic(truth, second) - statistic(truth, first): the change from a baseline to another run."""

    def changed(truth, first, second, axis=-1):
        return statistic(truth, second, axis=axis) - statistic(truth, first, axis=axis)

    return changed


def interval(
    statistic: Statistic, samples: tuple[np.ndarray, ...], *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float | None, float | None]:
    """The percentile bootstrap interval of statistic(*samples), resampling images jointly."""
    if len(samples[0]) < 2:
        return None, None
    result = stats.bootstrap(
        samples,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        batch=max(1, 2_000_000 // len(samples[0])),
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def estimate(
    value: float,
    statistic: Statistic,
    samples: tuple[np.ndarray, ...],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Estimate:
    low, high = interval(statistic, samples, resamples=resamples, seed=seed)
    return Estimate(value=float(value), low=low, high=high)
