"""How many images of each condition x skin type to generate: evenly, per condition, or to fill gaps.

A plan is an ordered mapping (condition, skin type) -> count of images; its map requests are the cells in
that order, each split into maps of `samples_per_map` images, so image i of a plan always comes from the
same request, which makes reruns resume and ranks share the work without talking to each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from dermgan.conditions import FITZPATRICK_TYPES
from dermgan.errors import UserError
from dermgan.parsing import split_list

Cell = tuple[str, str]
Plan = dict[Cell, int]


def parse_skin_types(text: str | None) -> list[str]:
    """ "1,6" -> ["1", "6"]; all six types when empty; UserError outside 1-6."""
    if not text:
        return [str(t) for t in FITZPATRICK_TYPES]
    chosen = split_list(text)
    wrong = [t for t in chosen if t not in {str(k) for k in FITZPATRICK_TYPES}]
    if wrong:
        raise UserError(f"skin types are Fitzpatrick types 1-6 to generate; not {', '.join(wrong)}")
    return list(dict.fromkeys(chosen))


def _split(total: int, parts: int, first_extra: int = 0) -> list[int]:
    """`total` in `parts` near-equal shares; the remainder goes to consecutive parts from `first_extra`."""
    share, extra = divmod(total, parts)
    return [share + ((index - first_extra) % parts < extra) for index in range(parts)]


def even_plan(total: int, conditions: Sequence[str], skin_types: Sequence[str]) -> Plan:
    """`total` images spread evenly over the conditions, and within each over the skin types.

    When it does not divide, the extra images of successive conditions go to successive skin types, so
    no type is favoured: 24 images over 8 conditions x 6 types give 3 per condition and 4 per type.
    """
    plan: Plan = {}
    extras_so_far = 0
    for condition, count in zip(conditions, _split(total, len(conditions)), strict=True):
        shares = _split(count, len(skin_types), first_extra=extras_so_far)
        plan |= {(condition, t): k for t, k in zip(skin_types, shares, strict=True)}
        extras_so_far += count % len(skin_types)
    return plan


def per_condition_plan(count: int, conditions: Sequence[str], skin_types: Sequence[str]) -> Plan:
    """`count` images of each condition, spread evenly over the skin types."""
    return even_plan(count * len(conditions), conditions, skin_types)


def check_samples_per_map(samples_per_map: int) -> None:
    if samples_per_map < 1:
        raise UserError(f"--samples-per-map must be at least 1, not {samples_per_map}")


def in_images(maps: Plan, samples_per_map: int) -> Plan:
    """A plan counted in maps, counted in images."""
    return {cell: count * samples_per_map for cell, count in maps.items()}


def real_counts(rows: Iterable[Mapping[str, str]]) -> Counter[Cell]:
    """Images per (condition, single skin type) of a real manifest; ranges and unknown types do not count."""
    return Counter(
        (row["condition"], row.get("skin_type", ""))
        for row in rows
        if row.get("source", "real") != "synthetic"
    )


def gap_plan(
    counts: Mapping[Cell, int], target: int, conditions: Sequence[str], skin_types: Sequence[str]
) -> Plan:
    """What each cell needs to reach `target` images (0 where it already has them)."""
    if target < 1:
        raise UserError(f"--target must be at least 1, not {target}")
    return {(c, t): max(0, target - counts.get((c, t), 0)) for c in conditions for t in skin_types}


def map_requests(plan: Plan, samples_per_map: int) -> list[tuple[Cell, int]]:
    """Map j of the plan: its cell and how many images are drawn from it.

    The plan counts images, so a cell of `count` images gets ceil(count / samples_per_map) maps; when it
    does not divide, the cell's last map has the remainder, so every cell still gets exactly its count.
    """
    check_samples_per_map(samples_per_map)
    return [
        (cell, min(samples_per_map, count - start))
        for cell, count in plan.items()
        for start in range(0, count, samples_per_map)
    ]
