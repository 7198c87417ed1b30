"""Improved precision and recall on toy sets whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from dermgan.evaluation.precision_recall import precision_recall


def cluster(n: int, centre: float, seed: int, dim: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).normal(centre, 1.0, size=(n, dim))


def test_identical_sets_have_full_precision_and_recall():
    points = cluster(200, 0.0, seed=0)
    assert precision_recall(points, points.copy()) == (1.0, 1.0)


def test_far_apart_clusters_have_neither():
    assert precision_recall(cluster(200, 0.0, seed=1), cluster(200, 100.0, seed=2)) == (0.0, 0.0)


def test_a_generator_covering_one_of_two_real_modes_is_precise_but_recalls_half():
    real = np.concatenate([cluster(200, 0.0, seed=3), cluster(200, 100.0, seed=4)])
    precision, recall = precision_recall(real, cluster(200, 0.0, seed=5))
    assert precision > 0.9
    assert recall == pytest.approx(0.5, abs=0.05)


def test_too_few_points_for_the_neighbourhood_is_refused():
    with pytest.raises(ValueError, match="more than 3"):
        precision_recall(cluster(3, 0.0, seed=6), cluster(10, 0.0, seed=7))


def test_each_ball_reaches_the_kth_nearest_other_point():
    """Real points 0, 1, 2, 3: the ball of 3 reaches its 3rd neighbour (0), so 5.5 is inside it, while
    a ball reaching only the 2nd neighbour would not hold it."""
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[5.5], [50.0], [60.0], [70.0]])
    assert precision_recall(real, fake, k=3)[0] == 0.25
    assert precision_recall(real, fake, k=2)[0] == 0.0
