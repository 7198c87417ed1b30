"""Which photos train, validate and test a classifier run, and its classes.

Classes are the conditions of the real manifest. `data.max_train_images` keeps a seeded subset of a
class's real training photos (to make it rare on purpose); synthetic photos from `--extra` are added to
the training set only, all of them or a seeded subset per class (`data.max_synthetic_images`).
`data.reserve_images` adds held-back real photos (split `reserve`, which no training sees otherwise):
the real side of a data-value study. Every subset is the first n of a seeded order, so a larger count
holds a smaller one and the points of a dose-response curve differ only by the images added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from dermgan.classification.examples import Example, require_real
from dermgan.data.manifest import RESERVE
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
    reserve: list[Example] = field(default_factory=list)
    """Every held-back real photo of the data (split `reserve`), trained on or not: no generator that
    made a training image may have seen one."""

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


def _first_of(
    pool: list[Example], counts: Mapping[str, int], classes: Sequence[str], seed: int, key: str, cap: bool
) -> list[Example]:
    """Per condition named in `counts`, the first n of the pool's seeded order; other conditions whole.

    `cap` keeps at most n (a class made rare); otherwise exactly n are needed (photos to add)."""
    unknown = sorted(set(counts) - set(classes))
    if unknown:
        raise UserError(
            f"data.{key} names {', '.join(map(repr, unknown))}, not a condition of the data "
            f"({', '.join(classes)})"
        )
    dropped: set[int] = set()
    for condition, count in counts.items():
        if count < 0:
            raise UserError(f"data.{key}.{condition} must be 0 or more, not {count}")
        mine = [index for index, example in enumerate(pool) if example.condition == condition]
        if not cap and len(mine) < count:
            raise UserError(
                f"data.{key}.{condition}={count}, but the data holds {len(mine)} such photo(s); ask for "
                "fewer, or hold back more with `dermgan data prepare --hold-back`"
            )
        order = np.random.default_rng(stable_seed(seed, "keep", condition)).permutation(len(mine))
        dropped.update(mine[i] for i in order[count:])
    return [example for index, example in enumerate(pool) if index not in dropped]


def select(
    real: Sequence[Example],
    extra: Sequence[Example],
    caps: Mapping[str, int],
    seed: int,
    *,
    synthetic_caps: Mapping[str, int] | None = None,
    reserve: Mapping[str, int] | None = None,
    synthetic_only: bool = False,
) -> TrainingSet:
    """Splits real photos by their case split, caps classes, adds held-back and synthetic training photos."""
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
    held_back = [e for e in real if e.split == RESERVE and not e.synthetic]
    synthetic_train = [e for e in everything if e.synthetic and e.split in ("train", "")]
    if synthetic_only and not synthetic_train:
        raise UserError("data.synthetic_only=true needs synthetic training images: give --extra")
    kept_real = [] if synthetic_only else _first_of(real_train, caps, classes, seed, "max_train_images", True)
    reserve = reserve or {}
    asked = [e for e in held_back if e.condition in reserve]
    added = _first_of(asked, reserve, classes, seed, "reserve_images", False)
    synthetic = _first_of(synthetic_train, synthetic_caps or {}, classes, seed, "max_synthetic_images", True)
    return TrainingSet(
        classes=classes,
        train=kept_real + added + synthetic,
        val=[e for e in real if e.split == "val" and not e.synthetic],
        test=[e for e in real if e.split == "test" and not e.synthetic],
        held_out_synthetic=held_out_synthetic,
        reserve=held_back,
    )
