"""Paired tests of two classifiers on the same test images, from each image's correctness.

McNemar's test fits paired binary outcomes: only the images one classifier gets right and the other
wrong count. The exact test is a two-sided binomial test of those discordant pairs at 1/2; the chi-square
version uses Edwards' continuity correction. The paper reports a paired t-test on the 0/1 correctness,
given here too (scipy's ttest_rel).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from scipy import stats


class McNemar(BaseModel):
    only_first_right: int
    only_second_right: int
    exact_p: float
    chi2: float
    chi2_p: float


class PairedT(BaseModel):
    t: float | None
    p: float | None
    note: str = ""


def mcnemar(first_right: np.ndarray, second_right: np.ndarray) -> McNemar:
    first_right, second_right = np.asarray(first_right, bool), np.asarray(second_right, bool)
    b = int(np.sum(first_right & ~second_right))
    c = int(np.sum(~first_right & second_right))
    if b + c == 0:
        return McNemar(only_first_right=0, only_second_right=0, exact_p=1.0, chi2=0.0, chi2_p=1.0)
    chi2 = max(abs(b - c) - 1, 0) ** 2 / (b + c)
    return McNemar(
        only_first_right=b,
        only_second_right=c,
        exact_p=float(stats.binomtest(b, b + c, 0.5).pvalue),
        chi2=float(chi2),
        chi2_p=float(stats.chi2.sf(chi2, df=1)),
    )


def paired_t(first_right: np.ndarray, second_right: np.ndarray) -> PairedT:
    differences = np.asarray(second_right, float) - np.asarray(first_right, float)
    if np.all(differences == differences[0]):
        if differences[0] == 0:
            return PairedT(t=None, p=1.0, note="both classifiers are right on exactly the same images")
        return PairedT(t=None, p=None, note="every image changed the same way: the t statistic is undefined")
    result = stats.ttest_rel(np.asarray(second_right, float), np.asarray(first_right, float))
    return PairedT(t=float(result.statistic), p=float(result.pvalue))
