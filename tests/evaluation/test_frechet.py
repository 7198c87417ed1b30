"""The Frechet distance: the closed form of known Gaussians, pytorch-fid's numbers, and the n x n form."""

from __future__ import annotations

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance

from dermgan.evaluation.frechet import frechet_distance, frechet_distance_of_features


def correlated_features(n: int, dim: int, seed: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim)) * 0.3 + shift


def test_diagonal_gaussians_match_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-12)


def test_a_gaussian_is_at_distance_zero_from_itself():
    features = correlated_features(400, 32, seed=1)
    mean, covariance = features.mean(axis=0), np.cov(features, rowvar=False)
    assert abs(frechet_distance(mean, covariance, mean, covariance)) < 1e-9


def gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def test_equals_pytorch_fid_on_the_same_features():
    real, fake = correlated_features(500, 64, seed=2), correlated_features(600, 64, seed=3, shift=0.2)
    statistics = [*gaussian(real), *gaussian(fake)]
    reference = calculate_frechet_distance(*statistics)
    assert frechet_distance(*statistics) == pytest.approx(reference, rel=1e-6)
    assert frechet_distance_of_features(real, fake) == pytest.approx(reference, rel=1e-6)


def test_the_n_by_n_form_equals_the_covariance_form_when_there_are_fewer_images_than_dimensions():
    real, fake = correlated_features(40, 64, seed=4), correlated_features(50, 64, seed=5, shift=0.3)
    statistics = [*gaussian(real), *gaussian(fake)]
    assert frechet_distance_of_features(real, fake) == pytest.approx(frechet_distance(*statistics), rel=1e-6)
