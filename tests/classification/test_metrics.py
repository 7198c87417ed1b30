"""Metrics against hand-computed cases, scikit-learn, and what a bootstrap interval must do."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from dermgan.classification.evaluate import Predictions, score
from dermgan.classification.metrics import difference, estimate, f1_of, precision_of, recall_of, top1

TRUTH = np.array([0, 0, 0, 1, 1, 2])
PREDICTED = np.array([0, 0, 1, 1, 2, 2])


def test_f1_per_class_matches_hand_computed_values():
    # class 0: tp 2, fp 0, fn 1 -> 4/5; class 1: tp 1, fp 1, fn 1 -> 1/2; class 2: tp 1, fp 1, fn 0 -> 2/3;
    # class 3 never occurs and is never predicted -> 0.
    found = Predictions([], ["a", "b", "c", "d"], TRUTH, PREDICTED)
    accuracy, per_class = score(found, resamples=200)
    assert [round(c.f1.value, 6) for c in per_class] == [0.8, 0.5, round(2 / 3, 6), 0.0]
    assert [c.precision.value for c in per_class[:3]] == [1.0, 0.5, 0.5]
    assert [c.recall.value for c in per_class[:3]] == [pytest.approx(2 / 3), 0.5, 1.0]
    assert [c.support for c in per_class] == [3, 2, 1, 0]
    assert accuracy.value == pytest.approx(4 / 6)


def test_the_bootstrap_statistics_equal_scikit_learn_on_every_resample():
    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 4, (50, 40)), rng.integers(0, 4, (50, 40))
    for row in range(50):
        expected = precision_recall_fscore_support(
            truth[row], predicted[row], labels=range(4), zero_division=0
        )
        for k in range(4):
            assert precision_of(k)(truth, predicted)[row] == pytest.approx(expected[0][k])
            assert recall_of(k)(truth, predicted)[row] == pytest.approx(expected[1][k])
            assert f1_of(k)(truth, predicted)[row] == pytest.approx(expected[2][k])


def _accuracy_interval(n: int) -> tuple[float, float, float]:
    truth = np.zeros(n, dtype=int)
    predicted = np.where(np.arange(n) % 10 < 7, 0, 1)  # 70% right
    found = estimate(float(top1(truth, predicted)), top1, (truth, predicted), resamples=1000)
    return found.value, found.low, found.high


def test_the_interval_contains_the_estimate_and_shrinks_with_more_images():
    value, low, high = _accuracy_interval(40)
    big_value, big_low, big_high = _accuracy_interval(640)
    assert low < value == 0.7 < high
    assert big_low < big_value == 0.7 < big_high
    assert (big_high - big_low) < 0.5 * (high - low)  # 16x the images: about a quarter of the width


def test_a_single_image_has_no_interval():
    found = estimate(1.0, top1, (np.array([1]), np.array([1])))
    assert (found.low, found.high) == (None, None)
    assert found.text() == "1.000"


def test_the_difference_is_resampled_image_by_image():
    truth = np.zeros(200, dtype=int)
    first = np.where(np.arange(200) % 2 == 0, 0, 1)  # 50% right
    second = first.copy()
    second[1:20:2] = 0  # 10 more right, nothing else changes
    found = estimate(0.05, difference(top1), (truth, first, second), resamples=1000)
    # Paired: every resample changes by its share of those 10 images, so the interval stays above 0;
    # resampling the two runs independently would give an interval about 0.2 wide, reaching below 0.
    assert 0.0 < found.low < 0.05 < found.high
    assert found.high - found.low < 0.1
