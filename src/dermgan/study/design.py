"""Which images go into a study: balanced over conditions and sources, drawn with a seeded generator.

Turing test: one image per question, real and synthetic images spread evenly over the conditions.
Relevance test: questions spread evenly over the conditions; each shows half images of its condition and
half of the others (distractors, taken in turn from each other condition), each half half real and half
synthetic. No image appears twice in a study.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dermgan.errors import UserError

SOURCES = ("real", "synthetic")


@dataclass(frozen=True)
class Candidate:
    """An image a study may show, with what its manifest row says of it."""

    path: Path
    source: str
    condition: str
    skin_type: str


@dataclass(frozen=True)
class DesignedQuestion:
    condition: str
    images: list[Candidate]


def even_shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts differing by at most one, the larger ones first."""
    return [total // parts + (index < total % parts) for index in range(parts)]


class Pools:
    """Shuffled candidates per (condition, source), drawn without replacement."""

    def __init__(self, candidates: Sequence[Candidate], rng: random.Random, option_hint: str):
        self._pools: dict[tuple[str, str], list[Candidate]] = {}
        for candidate in candidates:
            self._pools.setdefault((candidate.condition, candidate.source), []).append(candidate)
        for pool in self._pools.values():
            rng.shuffle(pool)
        self._hint = option_hint

    def draw(self, condition: str, source: str, count: int) -> list[Candidate]:
        pool = self._pools.get((condition, source), [])
        if len(pool) < count:
            raise UserError(
                f"the study needs more {source} images of {condition!r} than the manifest has left "
                f"({len(pool)} for {count}); {self._hint}, or add images"
            )
        drawn, pool[:] = pool[:count], pool[count:]
        return drawn


def turing_design(
    candidates: Sequence[Candidate], conditions: Sequence[str], n_real: int, n_synthetic: int, seed: int
) -> list[DesignedQuestion]:
    """`n_real` real and `n_synthetic` synthetic images, each condition's share even, in shuffled order."""
    if n_real < 0 or n_synthetic < 0 or n_real + n_synthetic == 0:
        raise UserError(
            f"--n-real {n_real} and --n-synthetic {n_synthetic} must be 0 or more, and not both 0"
        )
    rng = random.Random(seed)
    pools = Pools(candidates, rng, "lower --n-real / --n-synthetic or choose fewer --conditions")
    images = []
    for source, total in zip(SOURCES, (n_real, n_synthetic), strict=True):
        for condition, count in zip(conditions, even_shares(total, len(conditions)), strict=True):
            images += pools.draw(condition, source, count)
    rng.shuffle(images)
    return [DesignedQuestion(image.condition, [image]) for image in images]


def relevance_design(
    candidates: Sequence[Candidate], conditions: Sequence[str], n_questions: int, per_question: int, seed: int
) -> list[DesignedQuestion]:
    """`n_questions` "which of these show X?" screens of `per_question` images, in shuffled order."""
    if len(conditions) < 2:
        raise UserError("a relevance study needs at least two conditions (the others are distractors)")
    if n_questions < 1:
        raise UserError(f"--questions {n_questions} must be at least 1")
    if per_question < 4 or per_question % 4:
        raise UserError(f"--per-question {per_question} must be a multiple of 4 (half target, half other)")
    rng = random.Random(seed)
    pools = Pools(candidates, rng, "lower --questions / --per-question or choose fewer --conditions")
    half = per_question // 4
    questions = []
    for index in range(n_questions):
        condition = conditions[index % len(conditions)]
        others = [c for c in conditions if c != condition]
        images = []
        for source in SOURCES:
            images += pools.draw(condition, source, half)
            for slot in range(half):
                images += pools.draw(others[(index + slot) % len(others)], source, 1)
        rng.shuffle(images)
        questions.append(DesignedQuestion(condition, images))
    rng.shuffle(questions)
    return questions
