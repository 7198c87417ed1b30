"""Which photos train, validate and test a classifier run, and its classes.

Classes are the conditions of the real manifest. `data.max_train_images` keeps a seeded subset of a
class's real training photos (to make it rare on purpose); synthetic photos from `--extra` are added to
the training set only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dermgan.classification.examples import Example, require_real
from dermgan.data.splits import stable_seed
from dermgan.errors import UserError


@dataclass
class TrainingSet:
    classes: list[str]
    train: list[Example]
    val: list[Example]
    test: list[Example]
    held_out_synthetic: list[Example]
    """Synthetic rows placed in val or test: the leakage guard refuses them."""

    def class_counts(self) -> dict[str, int]:
        counts = Counter(example.condition for example in self.train)
        return {condition: counts.get(condition, 0) for condition in self.classes}


def _missing_split(examples: Sequence[Example]) -> None:
    unsplit = [example for example in examples if not example.synthetic and not example.split]
    if unsplit:
        named = "; ".join(example.where() for example in unsplit[:5])
        raise UserError(
            f"{len(unsplit)} photo(s) have no split ({named}); give --splits PREPARED_DIR/splits.csv "
            "(written by `dermgan data prepare`), or fill the manifest's split column"
        )


def _keep_at_most(
    train: list[Example], caps: Mapping[str, int], classes: Sequence[str], seed: int
) -> list[Example]:
    unknown = sorted(set(caps) - set(classes))
    if unknown:
        raise UserError(
            f"data.max_train_images names {', '.join(map(repr, unknown))}, not a condition of the data "
            f"({', '.join(classes)})"
        )
    dropped: set[int] = set()
    for condition, cap in caps.items():
        if cap < 0:
            raise UserError(f"data.max_train_images.{condition} must be 0 or more, not {cap}")
        mine = [index for index, example in enumerate(train) if example.condition == condition]
        if len(mine) > cap:
            order = np.random.default_rng(stable_seed(seed, "keep", condition)).permutation(len(mine))
            dropped.update(mine[i] for i in order[cap:])
    return [example for index, example in enumerate(train) if index not in dropped]


def select(
    real: Sequence[Example], extra: Sequence[Example], caps: Mapping[str, int], seed: int
) -> TrainingSet:
    """Splits real photos by their case split, caps classes, adds the synthetic training photos."""
    require_real(real)
    _missing_split(real)
    not_synthetic = [example for example in extra if not example.synthetic]
    if not_synthetic:
        raise UserError(
            f"{not_synthetic[0].where()} is not synthetic (source={not_synthetic[0].source!r}): --extra "
            "takes the manifest written by `dermgan generate`; put real photos in the --data manifest"
        )
    classes = sorted({example.condition for example in real if not example.synthetic})
    foreign = [example for example in extra if example.condition not in classes]
    if foreign:
        raise UserError(
            f"{foreign[0].where()}: condition {foreign[0].condition!r} is not one of the real data's "
            f"({', '.join(classes)}); generate only conditions the classifier is trained on"
        )
    everything = [*real, *extra]
    held_out_synthetic = [e for e in everything if e.synthetic and e.split in ("val", "test")]
    real_train = [e for e in real if e.split == "train" and not e.synthetic]
    synthetic_train = [e for e in everything if e.synthetic and e.split in ("train", "")]
    return TrainingSet(
        classes=classes,
        train=_keep_at_most(real_train, caps, classes, seed) + synthetic_train,
        val=[e for e in real if e.split == "val" and not e.synthetic],
        test=[e for e in real if e.split == "test" and not e.synthetic],
        held_out_synthetic=held_out_synthetic,
    )
