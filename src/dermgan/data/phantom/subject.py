"""One case: a person's skin and the lesions photographed, the same in every photo of the case.

Lesions are laid out in a reference frame whose unit is the photo's shorter side; each photo of the
case then frames that arrangement with its own zoom and position, like a clinician photographing the
same lesions twice from a slightly different distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dermgan.data.phantom.lesions import LESION_KINDS
from dermgan.data.phantom.skin import SkinLook, draw_skin_look

# Relative frequency of 1, 2 and 3 lesions, cut to the condition's maximum.
LESION_COUNT_WEIGHTS = (0.6, 0.28, 0.12)
PLACEMENT_TRIES = 60
LESION_GAP = 0.03  # minimum clearance between lesions, in shorter sides


@dataclass(frozen=True)
class PlannedLesion:
    """A lesion in the reference frame: its painter's seed, radius and centre (y, x) in shorter sides."""

    seed: int
    radius: float
    centre: tuple[float, float]


@dataclass(frozen=True)
class Subject:
    """What every photo of a case shows: the person's skin and their lesions of one condition."""

    condition: str
    skin: SkinLook
    lesions: tuple[PlannedLesion, ...]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(top, left, bottom, right) of all lesions' reach, in shorter sides."""
        centres = np.array([lesion.centre for lesion in self.lesions])
        reaches = LESION_KINDS[self.condition].reach * np.array([[lesion.radius] for lesion in self.lesions])
        top, left = (centres - reaches).min(axis=0)
        bottom, right = (centres + reaches).max(axis=0)
        return float(top), float(left), float(bottom), float(right)


def draw_subject(condition: str, skin_type: int, rng: np.random.Generator) -> Subject:
    """A person of this skin type with 1-3 lesions of this condition, laid out without overlap (a lesion
    that finds no free place is left out; the first always fits)."""
    kind = LESION_KINDS[condition]
    weights = np.array(LESION_COUNT_WEIGHTS[: kind.max_count])
    count = int(rng.choice(np.arange(1, kind.max_count + 1), p=weights / weights.sum()))
    skin = draw_skin_look(skin_type, rng)
    lesions: list[PlannedLesion] = []
    for _ in range(count):
        radius = float(rng.uniform(*kind.radius))
        reach = kind.reach * radius
        seed = int(rng.integers(2**63))
        for y, x in rng.uniform(reach, 1.0 - reach, size=(PLACEMENT_TRIES, 2)).tolist():
            apart = (math.dist((y, x), other.centre) - kind.reach * other.radius for other in lesions)
            if all(gap > reach + LESION_GAP for gap in apart):
                lesions.append(PlannedLesion(seed, radius, (y, x)))
                break
    return Subject(condition=condition, skin=skin, lesions=tuple(lesions))
