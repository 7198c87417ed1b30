"""`dermgan classify eval`: a trained classifier on one split of a manifest (test by default).

The split is the run's own (its splits.csv), so the test images are the cases it never trained on;
synthetic images are refused. Top-1 accuracy, per-class precision, recall and F1 and top-1 per skin
type come with 95% bootstrap intervals; the confusion matrix has true classes as rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from dermgan.classification.examples import Example, read_examples, require_real
from dermgan.classification.leakage import refuse_synthetic
from dermgan.classification.metrics import RESAMPLES, Estimate, estimate, f1_of, precision_of, recall_of, top1
from dermgan.classification.predict import predict
from dermgan.classification.run_dir import load_classifier, read_run_splits
from dermgan.classification.tensors import labelled
from dermgan.conditions import skin_type_sort_key
from dermgan.errors import UserError
from dermgan.files import write_json


class ClassMetrics(BaseModel):
    condition: str
    support: int
    precision: Estimate
    recall: Estimate
    f1: Estimate


class SkinTypeTop1(BaseModel):
    skin_type: str
    n: int
    top1: Estimate


class EvalResult(BaseModel):
    model: str
    data: str
    split: str
    n_images: int
    classes: list[str]
    top1: Estimate
    per_class: list[ClassMetrics]
    per_skin_type: list[SkinTypeTop1]
    confusion: list[list[int]]
    """Rows: true class, columns: predicted class, in the order of `classes`."""
    resamples: int


@dataclass
class Predictions:
    """One run's predicted class for each image of a split, beside the truth."""

    examples: list[Example]
    classes: list[str]
    truth: np.ndarray
    predicted: np.ndarray


def split_examples(run_dir: Path, data: Path, split: str, progress: bool) -> list[Example]:
    """The real photos of `split` under the run's case split; UserError if none or any synthetic."""
    examples = read_examples(data, read_run_splits(run_dir), progress=progress)
    require_real(examples)
    chosen = [e for e in examples if e.split == split]
    refuse_synthetic(chosen, split)
    if not chosen:
        found = ", ".join(sorted({e.split for e in examples if e.split})) or "none"
        raise UserError(f"{data} has no photo in split {split!r} of the run {run_dir} (its splits: {found})")
    return chosen


def predictions(
    run_dir: str | os.PathLike[str],
    examples: list[Example],
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> Predictions:
    model, config, inputs = load_classifier(run_dir)
    unknown = sorted({e.condition for e in examples} - set(inputs.classes))
    if unknown:
        raise UserError(
            f"the run {run_dir} was not trained on {', '.join(map(repr, unknown))}; its classes are "
            f"{', '.join(inputs.classes)}"
        )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    images = labelled(examples, inputs.classes, config, progress)
    probabilities = predict(model.to(device), images, device, batch_size=batch_size, progress=progress)
    truth = np.array(images.labels)
    return Predictions(examples, inputs.classes, truth, probabilities.argmax(axis=1))


def skin_type_groups(examples: list[Example]) -> dict[str, np.ndarray]:
    """Image indices per skin type (light to dark, unknown last)."""
    groups: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        groups.setdefault(example.skin_type or "unknown", []).append(index)
    order = sorted(groups, key=lambda t: skin_type_sort_key("" if t == "unknown" else t))
    return {skin_type: np.array(groups[skin_type]) for skin_type in order}


def score(
    found: Predictions, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[Estimate, list[ClassMetrics]]:
    """Top-1 and every class's precision, recall and F1, each with its interval."""
    truth, predicted, labels = found.truth, found.predicted, list(range(len(found.classes)))
    samples = (truth, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_class = [
        ClassMetrics(
            condition=condition,
            support=int(support[k]),
            precision=estimate(precision[k], precision_of(k), samples, resamples=resamples, seed=seed),
            recall=estimate(recall[k], recall_of(k), samples, resamples=resamples, seed=seed),
            f1=estimate(f1[k], f1_of(k), samples, resamples=resamples, seed=seed),
        )
        for k, condition in enumerate(found.classes)
    ]
    accuracy = estimate(float(np.mean(truth == predicted)), top1, samples, resamples=resamples, seed=seed)
    return accuracy, per_class


def evaluate_classifier(
    model: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    split: str = "test",
    out: str | os.PathLike[str] | None = None,
    resamples: int = RESAMPLES,
    progress: bool = True,
) -> EvalResult:
    """Scores the run `model` on `split` of `data`; writes OUT/eval.json (OUT defaults to the run)."""
    run_dir, data = Path(model), Path(data)
    found = predictions(run_dir, split_examples(run_dir, data, split, progress), progress=progress)
    accuracy, per_class = score(found, resamples)
    per_skin_type = [
        SkinTypeTop1(
            skin_type=skin_type,
            n=len(indices),
            top1=estimate(
                float(np.mean(found.truth[indices] == found.predicted[indices])),
                top1,
                (found.truth[indices], found.predicted[indices]),
                resamples=resamples,
            ),
        )
        for skin_type, indices in skin_type_groups(found.examples).items()
    ]
    result = EvalResult(
        model=str(run_dir),
        data=str(data),
        split=split,
        n_images=len(found.truth),
        classes=found.classes,
        top1=accuracy,
        per_class=per_class,
        per_skin_type=per_skin_type,
        confusion=confusion_matrix(found.truth, found.predicted, labels=range(len(found.classes))).tolist(),
        resamples=resamples,
    )
    write_json(Path(out or run_dir) / "eval.json", result.model_dump(mode="json"))
    return result
