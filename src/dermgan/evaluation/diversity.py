"""Per-map diversity: does one semantic map give varied images, or does the generator ignore its noise?

pix2pix generators are known to learn to ignore their noise, so P(image | map) collapses to one image per
map. The diversity of a map is the mean pairwise Euclidean distance between the FID Inception pool3
features of its samples (the rows of a `generate --samples-per-map K` output that share a `map_id`).
The yardstick is the same measure among real crops "with a similar map": crops of the same condition and
skin type. They also differ in box size and place, so a ratio synthetic / real of 1 means one map varies
as much as different real photos of its kind; a ratio of 0 means every sample of a map is the same image.
Beside it stands the k-NN precision of the same samples against the real set: variety bought with
unrealistic images is no gain.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel
from rich.table import Table

from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork, extract_two_sets, inception_network
from dermgan.evaluation.image_sets import ImageSet
from dermgan.evaluation.precision_recall import NEIGHBOURHOOD, precision_recall
from dermgan.evaluation.roi import load_evaluation_sets
from dermgan.files import write_json

MAP_COLUMN = "map_id"
MAX_REAL_PER_CELL = 1000
"""Real cells above this many crops are measured on a seeded subset of it (pairs grow as n squared)."""
REFERENCE = "real crops of the same condition and skin type (any box size and place)"
MORE_SAMPLES = "generate with --samples-per-map 2 or more"
IDENTICAL_SAMPLES = (
    "every map's samples are identical: the generator has no source of randomness at inference "
    "(generate with --stochastic, or use a generator with a noise input)"
)

Cell = tuple[str, str]


class MapDiversity(BaseModel):
    map_id: str
    condition: str
    skin_type: str
    n_samples: int
    diversity: float


class DiversityRow(BaseModel):
    """Diversity of the maps of one cell (condition x skin type), one condition, or all of them."""

    condition: str
    skin_type: str
    """A Fitzpatrick type, or "all" on a condition's row and on the overall row."""
    n_maps: int
    n_samples: int
    synthetic: float
    """Mean over the maps of each map's diversity."""
    n_real: int
    """Real crops the precision is measured against: the cell's, the condition's, or all of them."""
    real: float | None
    """The maps' real reference, averaged over the maps that have one (their cell has 2+ real crops)."""
    n_maps_compared: int
    """Maps with a real reference: the ratio is over them."""
    ratio: float | None
    """Synthetic / real diversity over the compared maps."""
    precision: float | None
    """k-NN precision of the row's samples against the row's real crops (None with k or fewer on a side)."""


class DiversityTables(BaseModel):
    maps: list[MapDiversity]
    overall: DiversityRow
    conditions: list[DiversityRow]
    cells: list[DiversityRow]
    n_single_sample_maps: int
    """Maps with one sample (no spread to measure), left out."""
    note: str = ""


class DiversityResult(DiversityTables):
    real_set: str
    fake_set: str
    split: str | None
    feature_network: str
    distance: str = "Euclidean, between Inception pool3 features"
    reference: str = REFERENCE
    max_real_per_cell: int = MAX_REAL_PER_CELL
    neighbourhood: int = NEIGHBOURHOOD
    """k of the k-NN manifolds of precision."""
    n_features_computed: int
    """Images run through the network now; the others came from the feature cache."""
    seconds: float


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows: 0 for identical rows, sigma * sqrt(2 * dim) for
    Gaussian rows of standard deviation sigma."""
    if len(features) < 2:
        raise ValueError("a pairwise distance needs at least 2 rows")
    return torch.pdist(torch.as_tensor(np.asarray(features), dtype=torch.float64)).mean().item()


def measure_diversity(
    real_features: np.ndarray,
    real_rows: Sequence[Mapping[str, str]],
    fake_features: np.ndarray,
    fake_rows: Sequence[Mapping[str, str]],
) -> DiversityTables:
    """Per-map diversity of the fake samples (grouped by `map_id`), against the real diversity of each
    map's cell, per cell, per condition and overall, with precision beside it."""
    samples_of_map: dict[str, list[int]] = {}
    for index, row in enumerate(fake_rows):
        samples_of_map.setdefault(row[MAP_COLUMN], []).append(index)
    measured = {map_id: rows for map_id, rows in samples_of_map.items() if len(rows) > 1}
    if not measured:
        raise UserError(
            f"every map of the synthetic set has one sample, so none has a spread: {MORE_SAMPLES}"
        )
    maps = [
        MapDiversity(
            map_id=map_id,
            condition=fake_rows[rows[0]]["condition"],
            skin_type=fake_rows[rows[0]]["skin_type"],
            n_samples=len(rows),
            diversity=mean_pairwise_distance(fake_features[rows]),
        )
        for map_id, rows in measured.items()
    ]
    real_of_cell: dict[Cell, list[int]] = {}
    for index, row in enumerate(real_rows):
        real_of_cell.setdefault((row["condition"], row.get("skin_type", "")), []).append(index)
    rows = _Rows(real_features, fake_features, measured, real_of_cell)
    by_cell: dict[Cell, list[MapDiversity]] = {}
    for one_map in maps:
        by_cell.setdefault((one_map.condition, one_map.skin_type), []).append(one_map)
    conditions = sorted({condition for condition, _ in by_cell})
    overall = rows.row("all", "all", maps, list(range(len(real_rows))))
    notes = [IDENTICAL_SAMPLES] if all(m.diversity == 0 for m in maps) else []
    if overall.n_maps_compared < overall.n_maps:
        notes.append(
            f"{overall.n_maps - overall.n_maps_compared} maps are of cells with fewer than 2 real crops: "
            "no real reference, left out of the ratios"
        )
    return DiversityTables(
        maps=maps,
        overall=overall,
        conditions=[
            rows.row(c, "all", [m for m in maps if m.condition == c], rows.real_of_condition(c))
            for c in conditions
        ],
        cells=[
            rows.row(c, t, chosen, real_of_cell.get((c, t), [])) for (c, t), chosen in sorted(by_cell.items())
        ],
        n_single_sample_maps=len(samples_of_map) - len(measured),
        note="; ".join(notes),
    )


class _Rows:
    """Builds the DiversityRow of any set of maps: their diversity, their cells' real reference, and the
    precision of their samples against a chosen part of the real set."""

    def __init__(
        self,
        real_features: np.ndarray,
        fake_features: np.ndarray,
        samples_of_map: dict[str, list[int]],
        real_of_cell: dict[Cell, list[int]],
    ) -> None:
        self.real_features, self.fake_features = real_features, fake_features
        self.samples_of_map, self.real_of_cell = samples_of_map, real_of_cell
        self.reference = {
            cell: mean_pairwise_distance(real_features[_at_most(rows, MAX_REAL_PER_CELL)])
            for cell, rows in real_of_cell.items()
            if len(rows) > 1
        }

    def real_of_condition(self, condition: str) -> list[int]:
        return sorted(i for (c, _), rows in self.real_of_cell.items() if c == condition for i in rows)

    def row(self, condition: str, skin_type: str, maps: list[MapDiversity], real: list[int]) -> DiversityRow:
        compared = [m for m in maps if (m.condition, m.skin_type) in self.reference]
        samples = [i for m in maps for i in self.samples_of_map[m.map_id]]
        real_mean = (
            float(np.mean([self.reference[m.condition, m.skin_type] for m in compared])) if compared else None
        )
        return DiversityRow(
            condition=condition,
            skin_type=skin_type,
            n_maps=len(maps),
            n_samples=len(samples),
            synthetic=float(np.mean([m.diversity for m in maps])),
            n_real=len(real),
            real=real_mean,
            n_maps_compared=len(compared),
            ratio=float(np.mean([m.diversity for m in compared]) / real_mean) if real_mean else None,
            precision=_precision(self.real_features[real], self.fake_features[samples]),
        )


def evaluate_diversity(
    real: str | os.PathLike[str] | ImageSet,
    fake: str | os.PathLike[str] | ImageSet,
    *,
    out: str | os.PathLike[str] | None = None,
    split: str | None = None,
    network: FeatureNetwork | None = None,
    cache: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = True,
) -> DiversityResult:
    """Per-map diversity of FAKE (a `generate --samples-per-map K` output) against REAL's crops of the same
    condition and skin type, with precision; writes OUT/diversity.json."""
    started = time.perf_counter()
    real_set, fake_set = load_evaluation_sets([real, fake], split)
    real_set.groups(["condition", "skin_type"])  # refuses a plain folder, naming what is missing
    if not fake_set.rows or MAP_COLUMN not in fake_set.rows[0]:
        raise UserError(
            f"{fake_set.name} has no {MAP_COLUMN} column to group the samples of one map: {MORE_SAMPLES}"
        )
    network = network or inception_network()
    extracted = extract_two_sets(
        real_set.paths,
        fake_set.paths,
        network,
        cache=cache,
        batch_size=batch_size,
        workers=workers,
        progress=progress,
    )
    real_features, fake_features = extracted.real, extracted.fake
    tables = measure_diversity(real_features, real_set.rows, fake_features, fake_set.rows)
    result = DiversityResult(
        **tables.model_dump(),
        real_set=real_set.name,
        fake_set=fake_set.name,
        split=split,
        feature_network=network.id,
        n_features_computed=extracted.n_computed,
        seconds=round(time.perf_counter() - started, 2),
    )
    if out is not None:
        write_json(Path(out) / "diversity.json", result.model_dump(mode="json"))
    return result


def diversity_table(result: DiversityTables) -> Table:
    """All maps, then each condition followed by its skin types."""
    table = Table(title="per-map diversity (mean pairwise feature distance)", title_justify="left")
    for name in ("maps of", "maps", "samples", "synthetic", "real", "ratio", "precision"):
        first = name == "maps of"
        table.add_column(name, justify="left" if first else "right", no_wrap=first)
    rows = [result.overall]
    for condition in result.conditions:
        rows += [condition, *(cell for cell in result.cells if cell.condition == condition.condition)]
    for row in rows:
        table.add_row(
            row.condition if row.skin_type == "all" else f"  type {row.skin_type}",
            str(row.n_maps),
            str(row.n_samples),
            f"{row.synthetic:.2f}",
            _number(row.real),
            _number(row.ratio),
            _number(row.precision),
        )
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _precision(real: np.ndarray, fake: np.ndarray) -> float | None:
    if min(len(real), len(fake)) <= NEIGHBOURHOOD:
        return None
    return precision_recall(real, fake)[0]


def _at_most(rows: list[int], limit: int) -> list[int]:
    """`rows`, or a seeded subset of `limit` of them."""
    if len(rows) <= limit:
        return rows
    return sorted(np.random.default_rng(0).choice(rows, size=limit, replace=False).tolist())
