"""Which condition and skin type each phantom case has, and how many photos it holds.

Real clinical data is imbalanced (melanoma and dark skin types are rare) and a case often has several
photos of the same lesion; the phantom copies both so that class weighting and case-level splits get
exercised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from dermgan.conditions import FITZPATRICK_TYPES
from dermgan.data.phantom.lesions import CONDITIONS
from dermgan.errors import UserError

DEFAULT_CONDITION_WEIGHTS: dict[str, float] = {
    "melanoma": 0.04,
    "melanocytic nevus": 0.20,
    "basal cell carcinoma": 0.10,
    "seborrheic keratosis": 0.14,
    "actinic keratosis": 0.12,
    "psoriasis": 0.14,
    "eczema": 0.14,
    "acne": 0.12,
}
DEFAULT_SKIN_TYPE_WEIGHTS: dict[int, float] = {1: 0.14, 2: 0.30, 3: 0.28, 4: 0.17, 5: 0.07, 6: 0.04}
PHOTOS_PER_CASE = {1: 0.7, 2: 0.2, 3: 0.1}
CASE_PLAN_STREAM = 2  # the third seed word of the case plan's draws (see render.SUBJECT_STREAM)

Label = TypeVar("Label", str, int)


@dataclass(frozen=True)
class Case:
    """One person and lesion: `photos` consecutive images share its condition and skin type."""

    number: int
    condition: str
    skin_type: int
    photos: int


def probabilities(weights: Mapping[Label, float], vocabulary: Sequence[Label], what: str) -> np.ndarray:
    """Normalised draw probabilities over `vocabulary`; labels left out of `weights` are never drawn."""
    unknown = [label for label in weights if label not in vocabulary]
    if unknown:
        choices = ", ".join(repr(label) for label in vocabulary)
        raise UserError(f"unknown {what} {unknown[0]!r} in the weights; choose from {choices}")
    values = [float(weights.get(label, 0.0)) for label in vocabulary]
    if not all(math.isfinite(value) and value >= 0 for value in values) or sum(values) <= 0:
        raise UserError(f"{what} weights must be non-negative numbers, at least one above zero")
    return np.array(values) / sum(values)


def plan_cases(
    n: int,
    seed: int,
    condition_weights: Mapping[str, float] | None = None,
    skin_type_weights: Mapping[int, float] | None = None,
) -> list[Case]:
    """Cases holding `n` photos in all, drawn case by case (so a larger n extends a smaller one)."""
    if condition_weights is None:
        condition_weights = DEFAULT_CONDITION_WEIGHTS
    if skin_type_weights is None:
        skin_type_weights = DEFAULT_SKIN_TYPE_WEIGHTS
    condition_p = probabilities(condition_weights, CONDITIONS, "condition")
    skin_p = probabilities(skin_type_weights, FITZPATRICK_TYPES, "skin type")
    photo_counts = list(PHOTOS_PER_CASE)
    photo_p = np.array(list(PHOTOS_PER_CASE.values()))
    rng = np.random.default_rng([seed, 0, CASE_PLAN_STREAM])
    cases: list[Case] = []
    remaining = n
    while remaining > 0:
        photos = min(photo_counts[rng.choice(len(photo_counts), p=photo_p)], remaining)
        condition = CONDITIONS[rng.choice(len(CONDITIONS), p=condition_p)]
        skin_type = FITZPATRICK_TYPES[rng.choice(len(FITZPATRICK_TYPES), p=skin_p)]
        cases.append(Case(len(cases), condition, skin_type, photos))
        remaining -= photos
    return cases
