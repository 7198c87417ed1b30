"""KID: the subset estimator against a direct O(n^2) unbiased MMD^2 with the cubic kernel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dermgan.evaluation.kid import kernel_inception_distance


def direct_kid(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 written as the textbook double sums."""
    dim = x.shape[1]

    def kernel(a, b):
        return (a @ b / dim + 1) ** 3

    m, n = len(x), len(y)
    within_x = sum(kernel(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    within_y = sum(kernel(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    across = sum(kernel(a, b) for a in x for b in y) / (m * n)
    return within_x + within_y - 2 * across


def test_one_subset_of_everything_is_the_direct_unbiased_mmd():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(30, 6)), rng.normal(0.5, 1.2, size=(30, 6))
    kid = kernel_inception_distance(real, fake, subsets=1, subset_size=30)
    assert kid.subset_size == 30 and kid.std == 0
    assert kid.mean == pytest.approx(direct_kid(real, fake), rel=1e-10)


def test_subsets_average_the_direct_value_of_each_subset():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(40, 5)), rng.normal(0.3, 1.0, size=(25, 5))
    kid = kernel_inception_distance(real, fake, subsets=5, subset_size=20, seed=7)
    draw = np.random.default_rng(7)
    values = [
        direct_kid(real[draw.choice(40, 20, replace=False)], fake[draw.choice(25, 20, replace=False)])
        for _ in range(5)
    ]
    assert kid.mean == pytest.approx(np.mean(values), rel=1e-10)
    assert kid.std == pytest.approx(np.std(values), rel=1e-8)


def test_unbiased_near_zero_for_one_distribution_and_clearly_positive_for_two():
    rng = np.random.default_rng(2)
    real, same, shifted = (
        rng.normal(size=(400, 8)),
        rng.normal(size=(400, 8)),
        rng.normal(1, 1, size=(400, 8)),
    )
    kid_same = kernel_inception_distance(real, same, subsets=50, subset_size=100)
    kid_shifted = kernel_inception_distance(real, shifted, subsets=50, subset_size=100)
    assert abs(kid_same.mean) < kid_same.std
    assert kid_shifted.mean > 5 * kid_shifted.std


def test_sets_smaller_than_the_subset_size_are_drawn_in_halves_so_the_spread_means_something():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(60, 6)), rng.normal(0.2, 1.0, size=(50, 6))
    kid = kernel_inception_distance(real, fake)  # the default subset size, 1000, is more than either set
    assert kid.subset_size == 25
    assert kid.std > 0
