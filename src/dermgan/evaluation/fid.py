"""How far generated images are from real ones: FID with the paper's interval, KID, precision and recall.

Features are extracted once for both sets (and cached); the paper's FID interval (Table 1) repeats FID on
`trials` random subsets and reports mean +/- 1.96 std. With `by`, the same per cell of, e.g., condition x
skin type: a generator can be good on average and poor on dark skin. FID is biased and noisy on small sets,
so cells with fewer than MIN_IMAGES_FOR_FID images on a side get KID (unbiased) only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel
from tqdm import tqdm

from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork, extract_two_sets, inception_network
from dermgan.evaluation.frechet import frechet_distance_of_features
from dermgan.evaluation.image_sets import ImageSet
from dermgan.evaluation.kid import KID_SUBSETS, kernel_inception_distance
from dermgan.evaluation.precision_recall import NEIGHBOURHOOD, precision_recall
from dermgan.evaluation.roi import load_evaluation_sets
from dermgan.files import write_json

MIN_IMAGES_FOR_FID = 200
MIN_IMAGES_FOR_KID = 2
CI95_Z = 1.96
TOO_FEW_FOR_FID = "too few images for FID: KID only"
TOO_FEW_FOR_KID = "too few images for KID or FID"
SAME_IMAGES_EVERY_TRIAL = "every trial used every image, so the interval is 0: pass a smaller sample size"


class Metrics(BaseModel):
    """The metrics of one pair of sets (the whole sets, or one cell); None where there were too few images."""

    n_real: int
    n_fake: int
    fid: float | None = None
    """Mean FID over the trials."""
    fid_ci95: float | None = None
    """Half width of the paper's interval: 1.96 x the std of FID over the trials."""
    fid_trials: list[float] = []
    sample_size: int | None = None
    """Images per set in each FID trial."""
    kid: float | None = None
    kid_std: float | None = None
    """Std of KID over its subsets."""
    kid_subset_size: int | None = None
    precision: float | None = None
    recall: float | None = None
    note: str = ""


class CellMetrics(Metrics):
    cell: dict[str, str]
    """The cell's value of each `by` key, e.g. {"condition": "melanoma", "skin_type": "5"}."""


class FidResult(Metrics):
    real: str
    fake: str
    split: str | None
    """The split kept of each real set that has splits (plain folders and synthetic sets are kept whole)."""
    feature_network: str
    trials: int
    seed: int
    kid_subsets: int = KID_SUBSETS
    neighbourhood: int = NEIGHBOURHOOD
    """k of the k-NN manifolds of precision and recall."""
    by: list[str] = []
    cells: list[CellMetrics] = []
    n_features_computed: int
    """Images run through the network now; the others came from the feature cache."""
    seconds: float


def evaluate(
    real: str | os.PathLike[str] | ImageSet,
    fake: str | os.PathLike[str] | ImageSet,
    *,
    trials: int = 10,
    sample_size: int | None = None,
    by: Sequence[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    result_name: str = "fid",
    split: str | None = None,
    network: FeatureNetwork | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    device: torch.device | None = None,
    seed: int = 0,
    progress: bool = True,
) -> FidResult:
    """FID (mean +/- 1.96 std over `trials` subsets of `sample_size`, default min(n_real, n_fake)), KID,
    precision and recall of FAKE against REAL, overall and per cell of `by`; writes OUT/<result_name>.json.
    `split` keeps that split of each real set that has splits (a prepared dataset or manifest); a plain
    image folder and a synthetic set are kept whole.

    Under torchrun every rank calls this; ranks share the feature extraction and only rank 0 writes.
    """
    started = time.perf_counter()
    if trials < 1:
        raise UserError(f"--trials {trials}: give at least 1")
    if sample_size is not None and sample_size < 2:
        raise UserError(f"--sample-size {sample_size}: give at least 2")
    real_set, fake_set = load_evaluation_sets([real, fake], split)
    cells = _cells(real_set, fake_set, list(by)) if by else []
    network = network or inception_network()
    extracted = extract_two_sets(
        real_set.paths,
        fake_set.paths,
        network,
        cache=cache,
        batch_size=batch_size,
        workers=workers,
        device=device,
        progress=progress,
    )
    real_features, fake_features = extracted.real, extracted.fake
    measure = partial(
        _metrics, trials=trials, sample_size=sample_size, seed=seed, progress=progress and _is_main_rank()
    )
    cell_results = [
        CellMetrics(
            cell=dict(zip(by or [], key, strict=True)),
            **measure(real_features[real_rows], fake_features[fake_rows]).model_dump(),
        )
        for key, (real_rows, fake_rows) in cells
    ]
    result = FidResult(
        **measure(real_features, fake_features).model_dump(),
        real=real_set.name,
        fake=fake_set.name,
        split=split,
        feature_network=network.id,
        trials=trials,
        seed=seed,
        by=list(by or []),
        cells=cell_results,
        n_features_computed=extracted.n_computed,
        seconds=round(time.perf_counter() - started, 2),
    )
    if out is not None and _is_main_rank():
        write_json(Path(out) / f"{result_name}.json", result.model_dump(mode="json"))
    return result


def fid_with_interval(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    trials: int,
    sample_size: int,
    seed: int = 0,
    progress: bool = False,
) -> tuple[float, float, list[float]]:
    """(mean, 1.96 x std, values) of FID over `trials` random subsets of `sample_size` rows of each set.

    When the subsets would be the whole of both sets, FID is computed once and the interval is 0.
    """
    if sample_size >= max(len(real), len(fake)):
        return frechet_distance_of_features(real, fake), 0.0, []
    rng = np.random.default_rng(seed)
    values = [
        frechet_distance_of_features(
            real[rng.choice(len(real), sample_size, replace=False)],
            fake[rng.choice(len(fake), sample_size, replace=False)],
        )
        for _ in tqdm(range(trials), desc="FID trials", disable=not progress, leave=False)
    ]
    return float(np.mean(values)), float(CI95_Z * np.std(values)), values


def _metrics(
    real: np.ndarray, fake: np.ndarray, *, trials: int, sample_size: int | None, seed: int, progress: bool
) -> Metrics:
    n_real, n_fake = len(real), len(fake)
    if min(n_real, n_fake) < MIN_IMAGES_FOR_KID:
        return Metrics(n_real=n_real, n_fake=n_fake, note=TOO_FEW_FOR_KID)
    kid = kernel_inception_distance(real, fake, seed=seed)
    kid_fields = {"kid": kid.mean, "kid_std": kid.std, "kid_subset_size": kid.subset_size}
    if min(n_real, n_fake) < MIN_IMAGES_FOR_FID:
        return Metrics(n_real=n_real, n_fake=n_fake, note=TOO_FEW_FOR_FID, **kid_fields)
    size = min(sample_size or n_real, n_real, n_fake)
    fid, half_width, values = fid_with_interval(
        real, fake, trials=trials, sample_size=size, seed=seed, progress=progress
    )
    precision, recall = precision_recall(real, fake)
    return Metrics(
        n_real=n_real,
        n_fake=n_fake,
        fid=fid,
        fid_ci95=half_width,
        fid_trials=values,
        sample_size=size,
        precision=precision,
        recall=recall,
        note="" if values or trials == 1 else SAME_IMAGES_EVERY_TRIAL,
        **kid_fields,
    )


def _cells(
    real: ImageSet, fake: ImageSet, keys: list[str]
) -> list[tuple[tuple[str, ...], tuple[list[int], list[int]]]]:
    """Row indices of each set per cell; a cell only one set has gets an empty list on the other side."""
    real_groups, fake_groups = real.groups(keys), fake.groups(keys)
    return [
        (key, (real_groups.get(key, []), fake_groups.get(key, [])))
        for key in sorted(real_groups.keys() | fake_groups.keys())
    ]


def _is_main_rank() -> bool:
    return not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0
