"""Frechet distance between two Gaussians fitted to features: the D in FID.

d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)). The trace of the matrix square root is a sum
of square roots of eigenvalues, taken from a symmetric matrix so that they are real and stable:
- from covariances: eig(sqrt(S1) S2 sqrt(S1)), d x d;
- from features (n < d, e.g. the subsets of FID trials): with S1 = A'A and S2 = B'B for the centred,
  scaled features A and B, the non-zero eigenvalues of S1 S2 are the squared singular values of A B', so
  tr(sqrt(S1 S2)) is the sum of the singular values of the n1 x n2 matrix A B' (no d x d matrix at all).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The Frechet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = scipy.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def frechet_distance_of_features(real: np.ndarray, fake: np.ndarray) -> float:
    """FID between two sets of feature rows; the n1 x n2 form when a set has fewer rows than dimensions."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if min(len(real), len(fake)) >= real.shape[1]:
        return frechet_distance(*_gaussian(real), *_gaussian(fake))
    centred_real = (real - real.mean(axis=0)) / np.sqrt(len(real) - 1)
    centred_fake = (fake - fake.mean(axis=0)) / np.sqrt(len(fake) - 1)
    trace_sqrt = scipy.linalg.svdvals(centred_real @ centred_fake.T).sum()
    return float(
        np.sum((real.mean(axis=0) - fake.mean(axis=0)) ** 2)
        + np.sum(centred_real**2)
        + np.sum(centred_fake**2)
        - 2 * trace_sqrt
    )


def _gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a covariance (rounding-negative eigenvalues clipped to zero)."""
    eigenvalues, vectors = scipy.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T
