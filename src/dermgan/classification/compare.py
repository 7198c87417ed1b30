"""`dermgan classify compare`: a baseline and an augmented classifier on the same test images.

Top-1 of both with McNemar's test and the paper's paired t-test on each image's correctness; per-class
F1 of both with intervals and the interval of their difference (images resampled jointly, so the pairing
counts); top-1 per skin type. Writes compare.json, compare.md and compare.png (the paper's Fig. 8).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from dermgan.classification.evaluate import Predictions, predictions, skin_type_groups, split_examples
from dermgan.classification.metrics import RESAMPLES, Estimate, difference, estimate, f1_of, top1
from dermgan.classification.paired import McNemar, PairedT, mcnemar, paired_t
from dermgan.classification.plot import plot_f1
from dermgan.classification.run_dir import read_inputs
from dermgan.classification.tables import compare_markdown
from dermgan.errors import UserError
from dermgan.files import write_json, write_text


class Change(BaseModel):
    """One statistic of both runs and the augmented run's minus the baseline's, each with its interval."""

    baseline: Estimate
    augmented: Estimate
    difference: Estimate


class ClassComparison(BaseModel):
    condition: str
    support: int
    f1: Change


class SkinTypeComparison(BaseModel):
    skin_type: str
    n: int
    top1: Change
    mcnemar_exact_p: float


class CompareResult(BaseModel):
    baseline: str
    augmented: str
    data: str
    split: str
    n_images: int
    n_synthetic_baseline: int
    n_synthetic_augmented: int
    classes: list[str]
    top1: Change
    mcnemar: McNemar
    paired_t: PairedT
    per_class: list[ClassComparison]
    per_skin_type: list[SkinTypeComparison]
    resamples: int
    markdown: str
    plot: str


def _same_test_images(baseline: Path, augmented: Path, data: Path, split: str, progress: bool):
    first = split_examples(baseline, data, split, progress)
    second = split_examples(augmented, data, split, progress)
    if [e.path for e in first] != [e.path for e in second]:
        raise UserError(
            f"{baseline} and {augmented} hold different {split} splits of {data} ({len(first)} and "
            f"{len(second)} photos): train both with the same --splits to compare them"
        )
    if read_inputs(baseline).classes != read_inputs(augmented).classes:
        raise UserError(
            f"{baseline} and {augmented} were trained on different classes; they cannot be compared"
        )
    return first


def _change(
    first: Predictions, second: Predictions, statistic, indices: np.ndarray, resamples: int
) -> Change:
    """`statistic` of both runs over the images `indices`, and its change, resampled jointly."""
    truth, a, b = first.truth[indices], first.predicted[indices], second.predicted[indices]
    value_a, value_b = float(statistic(truth, a)), float(statistic(truth, b))
    return Change(
        baseline=estimate(value_a, statistic, (truth, a), resamples=resamples),
        augmented=estimate(value_b, statistic, (truth, b), resamples=resamples),
        difference=estimate(value_b - value_a, difference(statistic), (truth, a, b), resamples=resamples),
    )


def compare_classifiers(
    baseline: str | os.PathLike[str],
    augmented: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    split: str = "test",
    out: str | os.PathLike[str] | None = None,
    resamples: int = RESAMPLES,
    progress: bool = True,
) -> CompareResult:
    """Writes OUT/compare.json, compare.md and compare.png (OUT defaults to the augmented run)."""
    baseline, augmented, data = Path(baseline), Path(augmented), Path(data)
    out = Path(out or augmented)
    examples = _same_test_images(baseline, augmented, data, split, progress)
    first = predictions(baseline, examples, progress=progress)
    second = predictions(augmented, examples, progress=progress)
    everything = np.arange(len(examples))
    right_a, right_b = first.truth == first.predicted, second.truth == second.predicted
    per_class = [
        ClassComparison(
            condition=condition,
            support=int(np.sum(first.truth == k)),
            f1=_change(first, second, f1_of(k), everything, resamples),
        )
        for k, condition in enumerate(first.classes)
    ]
    per_skin_type = [
        SkinTypeComparison(
            skin_type=skin_type,
            n=len(indices),
            top1=_change(first, second, top1, indices, resamples),
            mcnemar_exact_p=mcnemar(right_a[indices], right_b[indices]).exact_p,
        )
        for skin_type, indices in skin_type_groups(examples).items()
    ]
    result = CompareResult(
        baseline=str(baseline),
        augmented=str(augmented),
        data=str(data),
        split=split,
        n_images=len(examples),
        n_synthetic_baseline=read_inputs(baseline).n_synthetic,
        n_synthetic_augmented=read_inputs(augmented).n_synthetic,
        classes=first.classes,
        top1=_change(first, second, top1, everything, resamples),
        mcnemar=mcnemar(right_a, right_b),
        paired_t=paired_t(right_a, right_b),
        per_class=per_class,
        per_skin_type=per_skin_type,
        resamples=resamples,
        markdown=str(out / "compare.md"),
        plot=str(out / "compare.png"),
    )
    write_text(out / "compare.md", compare_markdown(result))
    plot_f1(result, out / "compare.png")
    write_json(out / "compare.json", result.model_dump(mode="json"))
    return result
