"""Case-level splits, stratified by condition: no case ever straddles train, val and test.

Made once per dataset by `data prepare` and written as `splits.csv` (case_id -> split), which every
later stage reads. Splits already given in the manifest are kept.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dermgan.data.manifest import RESERVE, SPLITS, Record
from dermgan.errors import UserError
from dermgan.files import atomic_write


def parse_fractions(text: str) -> tuple[float, float, float]:
    """ "0.7,0.1,0.2" -> fractions of train, val, test (must be three non-negative numbers summing to 1)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--split {text!r} must be three numbers like 0.7,0.1,0.2") from None
    if len(values) != 3 or min(values) < 0 or abs(sum(values) - 1) > 1e-6:
        raise UserError(
            f"--split {text!r} must be three non-negative fractions summing to 1, like 0.7,0.1,0.2"
        )
    return values  # type: ignore[return-value]


def stable_seed(*parts: object) -> int:
    """A seed from text that is the same on every machine and Python run (unlike hash())."""
    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _case_conditions(records: Sequence[Record]) -> dict[str, str]:
    """The most frequent condition of each case (ties broken alphabetically)."""
    per_case: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        per_case[record.case_id][record.condition] += 1
    return {case: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for case, c in per_case.items()}


def split_counts(n_cases: int, fractions: Sequence[float]) -> list[int]:
    """Cases per split by largest remainder; ties favour test, then val, so small classes still get tested."""
    ideal = [n_cases * f for f in fractions]
    counts = [int(v) for v in ideal]
    by_remainder = sorted(range(3), key=lambda i: (-(ideal[i] - counts[i]), -i))
    for i in by_remainder[: n_cases - sum(counts)]:
        counts[i] += 1
    return counts


def assign_splits(
    records: Sequence[Record], fractions: Sequence[float] = (0.7, 0.1, 0.2), seed: int = 0
) -> dict[str, str]:
    """case_id -> split: given splits kept, the other cases shuffled per condition and cut by fractions."""
    given = {r.case_id: r.split for r in records if r.split}
    by_condition: dict[str, list[str]] = defaultdict(list)
    for case, condition in sorted(_case_conditions(records).items()):
        if case not in given:
            by_condition[condition].append(case)
    splits = dict(given)
    for condition, cases in sorted(by_condition.items()):
        order = np.random.default_rng(stable_seed(seed, condition)).permutation(len(cases))
        labels = [
            name
            for name, count in zip(SPLITS, split_counts(len(cases), fractions), strict=True)
            for _ in range(count)
        ]
        splits.update((cases[index], label) for index, label in zip(order, labels, strict=True))
    return splits


def move_to_reserve(
    records: Sequence[Record], splits: dict[str, str], keep: Mapping[str, int], seed: int = 0
) -> dict[str, str]:
    """`splits` with all but `keep[condition]` of each named condition's train cases moved to the reserve
    (a seeded choice), so that the condition is rare in every training while its other real photos stay
    available to measure what synthetic ones are worth."""
    conditions = _case_conditions(records)
    unknown = sorted(set(keep) - set(conditions.values()))
    if unknown:
        raise UserError(
            f"--hold-back names {', '.join(map(repr, unknown))}, not a condition of the data "
            f"({', '.join(sorted(set(conditions.values())))})"
        )
    held = dict(splits)
    for condition, count in sorted(keep.items()):
        if count < 0:
            raise UserError(f"--hold-back {condition}={count}: keep 0 or more train cases")
        cases = sorted(c for c, name in conditions.items() if name == condition and splits[c] == "train")
        order = np.random.default_rng(stable_seed(seed, "hold back", condition)).permutation(len(cases))
        held.update((cases[index], RESERVE) for index in order[count:])
    return held


def write_splits(path: str | os.PathLike[str], splits: dict[str, str]) -> None:
    def write(handle):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["case_id", "split"])
        writer.writerows(sorted(splits.items()))

    atomic_write(path, write)


def read_splits(path: str | os.PathLike[str]) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return {row["case_id"]: row["split"] for row in csv.DictReader(handle)}
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; `dermgan data prepare` writes it") from None
    except KeyError:
        raise UserError(f"{path} must have the columns case_id and split") from None


def splits_path(prepared_dir: str | os.PathLike[str]) -> Path:
    return Path(prepared_dir) / "splits.csv"
