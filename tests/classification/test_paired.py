"""McNemar's test on a known table and the paired t-test against its formula."""

from __future__ import annotations

import numpy as np
import pytest

from dermgan.classification.paired import mcnemar, paired_t


def _outcomes(only_first: int, only_second: int, both: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    first = [True] * only_first + [False] * only_second + [True] * both + [False] * neither
    second = [False] * only_first + [True] * only_second + [True] * both + [False] * neither
    return np.array(first), np.array(second)


def test_mcnemar_on_a_known_table():
    # 10 discordant pairs one way, 3 the other. Exact: 2 * P(X <= 3 | n=13, 1/2) = 2 * 378 / 8192.
    # Corrected chi-square: (|10 - 3| - 1)^2 / 13 = 36 / 13, p = 0.0961 (chi-square table, 1 dof).
    result = mcnemar(*_outcomes(10, 3, both=20, neither=5))
    assert (result.only_first_right, result.only_second_right) == (10, 3)
    assert result.exact_p == pytest.approx(2 * 378 / 8192)
    assert result.chi2 == pytest.approx(36 / 13)
    assert result.chi2_p == pytest.approx(0.0961, abs=1e-4)


def test_mcnemar_ignores_agreement_and_is_symmetric():
    assert mcnemar(*_outcomes(10, 3, both=1000, neither=1000)).exact_p == pytest.approx(2 * 378 / 8192)
    assert mcnemar(*_outcomes(3, 10, both=0, neither=0)).exact_p == pytest.approx(2 * 378 / 8192)
    assert mcnemar(*_outcomes(0, 0, both=5, neither=5)).exact_p == 1.0


def test_paired_t_test_matches_its_formula_and_points_from_baseline_to_augmented():
    first, second = _outcomes(2, 6, both=8, neither=4)
    differences = second.astype(float) - first.astype(float)
    t = differences.mean() / (differences.std(ddof=1) / np.sqrt(len(differences)))
    result = paired_t(first, second)
    assert result.t == pytest.approx(t)
    assert t > 0
    assert 0 < result.p < 1


def test_paired_t_test_of_identical_outcomes_finds_nothing():
    first, second = _outcomes(0, 0, both=5, neither=5)
    result = paired_t(first, second)
    assert (result.t, result.p) == (None, 1.0)
