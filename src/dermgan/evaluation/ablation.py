"""The paper's Table 1: DermGAN and its three ablations, and the real-data floor, on one held-out set.

Each model is trained (or taken from `runs`), then renders the held-out (test) crops from their own maps,
so every synthetic image has a real twin: FID and KID compare the two sets, tone fidelity compares each
image with its twin. The floor is the FID of real train crops against the same real test crops. Every FID
uses the same subset size (80% of the test crops) and number of trials, so the intervals are comparable.

The per-trial interval says how much the test images move one model's FID; it says nothing of how much
another training seed would. With `seeds`, each row is trained once per seed and the table adds the mean
over seeds with its t-interval (evaluation/seed_interval.py), so an ordering of rows can be told from noise.
`measure_variants` is the one loop that trains named config variants and measures them: Table 1 and the
grid search (evaluation/grid.py) both call it.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from pydantic import BaseModel

from dermgan.data.phantom.dataset import names_phantom
from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork
from dermgan.evaluation.fid import FidResult, evaluate
from dermgan.evaluation.image_sets import ImageSet, load_image_set
from dermgan.evaluation.seed_interval import SEED_INTERVAL, t_interval
from dermgan.evaluation.tone import ToneGroup, evaluate_tone
from dermgan.files import save_png, write_json, write_text
from dermgan.generation.generate import render_crops
from dermgan.training.callbacks import StepCallback
from dermgan.training.checkpoint import latest_checkpoint
from dermgan.training.config import load_config
from dermgan.training.release import WEIGHTS
from dermgan.training.trainer import train

ABLATIONS: dict[str, tuple[str, ...]] = {
    "dermgan": (),
    "no-resize-conv": ("model.upsample=transposed",),
    "no-roi-loss": ("loss.lambda_roi=0",),
    "no-feature-matching": ("loss.lambda_fm=0",),
}
"""Each row of Table 1 as overrides of the base config (the presets ablations/*: the same for paper)."""
ABLATED_ROWS = tuple(name for name, removed in ABLATIONS.items() if removed)
"""The rows that remove one of the paper's additions."""

REAL_FLOOR = "real data"
PAPER_FID = {
    REAL_FLOOR: (83.6, 2.5),
    "dermgan": (122.4, 3.4),
    "no-resize-conv": (151.6, 3.4),
    "no-roi-loss": (174.0, 4.7),
    "no-feature-matching": (140.7, 2.5),
}
"""Table 1 of the paper (FID on 24,000 test images of the paper's dataset, mean +/- 1.96 std of 50 trials)."""
LABELS = {
    REAL_FLOOR: "real data (train vs test)",
    "dermgan": "DermGAN",
    "no-resize-conv": "no checkerboard mitigation",
    "no-roi-loss": "no condition-specific reconstruction loss",
    "no-feature-matching": "no feature matching loss",
}
SHORT_LABELS = {
    REAL_FLOOR: "real data",
    "dermgan": "DermGAN",
    "no-resize-conv": "no resize-conv",
    "no-roi-loss": "no ROI loss",
    "no-feature-matching": "no feature matching",
}
"""The chart's axis labels."""
SUBSET_SHARE = 0.8


class SeedMetrics(BaseModel):
    """One training seed of a row: its run and its metrics on the test crops."""

    seed: int
    run: str
    fid: float | None
    fid_ci95: float | None
    kid: float | None
    kid_std: float | None


class AblationRow(BaseModel):
    """One row of Table 1. `fid` to `ita_error` and `run` are its first seed's model (`fid_ci95` is the
    paper's per-trial interval); `per_seed` and the `*_seed_*` fields are its spread over training seeds."""

    name: str
    label: str
    run: str | None
    fid: float | None
    fid_ci95: float | None
    kid: float | None
    kid_std: float | None
    band_accuracy: float | None
    ita_error: float | None
    paper_fid: float
    paper_fid_ci95: float
    evaluated: bool = True
    """False for a row left out (its numbers are None and say "not run")."""
    per_seed: list[SeedMetrics] = []
    fid_seed_mean: float | None = None
    fid_seed_ci95: float | None = None
    """Half width of the t-interval over seeds (AblationResult.seed_interval); None with one seed."""
    kid_seed_mean: float | None = None
    kid_seed_ci95: float | None = None


class AblationResult(BaseModel):
    data: str
    datasets: list[str]
    phantom: bool
    n_test: int
    n_floor_train: int
    """Real train crops of the floor row."""
    sample_size: int
    trials: int
    rows: list[AblationRow]
    seeds: list[int] | None = None
    """The train.seed of each row's runs, in order; None: one run per row, with its config's own seed."""
    seed_interval: str = SEED_INTERVAL


def train_row(
    name: str,
    data: Path,
    run: Path,
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
    callbacks: Sequence[StepCallback] = (),
) -> Path:
    """Row NAME of Table 1 trained into RUN (the base config with the row's overrides): kept when its
    generator is released, resumed from its last checkpoint, or trained from the start. `callbacks`
    measure it during training (e.g. evaluation/curve.py's fidelity curve)."""
    if (run / WEIGHTS).exists():
        return run
    every = [*overrides, *ABLATIONS[name]]
    if latest_checkpoint(run) is not None:
        train(resume=run, overrides=every, progress=progress, callbacks=callbacks)
    else:
        train(data, run, config=config, overrides=every, progress=progress, callbacks=callbacks)
    return run


def variant_key(name: str, seed: int | None, base_seed: int) -> str:
    """The folder name of row NAME trained with SEED: the bare name for the base config's own seed (or no
    seed asked for), so that the runs of a one-seed table are that seed's runs when more seeds are asked."""
    return name if seed is None or seed == base_seed else f"{name}-seed{seed}"


@dataclass(frozen=True)
class Variant:
    """One model to measure: Table 1's row ROW with OVERRIDES on top of the base config, named KEY (its
    folder under runs/, synthetic/ and tone/). RUN, when given, is an already-trained run to use."""

    key: str
    row: str = "dermgan"
    overrides: tuple[str, ...] = ()
    run: Path | None = None


@dataclass(frozen=True)
class Measured:
    """A variant's run and its measurements on one split."""

    variant: Variant
    run: Path
    seed: int
    """train.seed of the run's config."""
    metrics: FidResult
    tone: ToneGroup


def _released(run: Path) -> Path:
    if not (run / WEIGHTS).exists():
        raise UserError(f"--runs: {run} has no {WEIGHTS}; finish its training first")
    return run


def _seed_of(run: Path) -> int:
    return load_config(run / "config.yaml").train.seed


def measure_variants(
    variants: Sequence[Variant],
    data: Path,
    reference: ImageSet,
    *,
    split: str,
    runs: Path,
    out: Path,
    config: str | os.PathLike[str] | None = None,
    progress: bool = True,
    **metric_options: Any,
) -> list[Measured]:
    """Each variant's run (given, or trained, resumed or kept under RUNS/<key>) renders SPLIT's crops from
    their maps into OUT/synthetic/<key>; the renders are measured against REFERENCE, the same crops (FID
    and KID with `evaluate`'s METRIC_OPTIONS, tone fidelity under OUT/tone/<key>)."""
    measured = []
    for variant in variants:
        if variant.run is not None:
            run = _released(variant.run)
        else:
            run = runs / variant.key
            train_row(variant.row, data, run, config=config, overrides=variant.overrides, progress=progress)
        synthetic = out / "synthetic" / variant.key
        render_crops(run, data, synthetic, split=split, progress=progress)
        metrics = evaluate(reference, synthetic, progress=progress, **metric_options)
        tone = evaluate_tone(data, synthetic, out=out / "tone" / variant.key, split=split, progress=progress)
        measured.append(Measured(variant, run, _seed_of(run), metrics, tone.sets[1].overall))
    return measured


def _seed_variants(
    rows: Sequence[str],
    seeds: Sequence[int | None],
    base_seed: int,
    overrides: Sequence[str],
    runs: Mapping[str, str],
) -> list[Variant]:
    """Each chosen row once per seed (train.seed=S on top of OVERRIDES), its run taken from RUNS if named."""
    variants = []
    for name in ABLATIONS:
        if name not in rows:
            continue
        for seed in seeds:
            key = variant_key(name, seed, base_seed)
            seeded = (*overrides, f"train.seed={seed}") if seed is not None else tuple(overrides)
            given = Path(runs[key]) if key in runs else None
            variants.append(Variant(key, row=name, overrides=seeded, run=given))
    return variants


def _check_given_seeds(runs: Mapping[str, str], expected: Mapping[str, int | None]) -> None:
    """Each given run was trained with the seed its name says."""
    for key, path in runs.items():
        actual = _seed_of(_released(Path(path)))
        if actual != expected[key]:
            raise UserError(
                f"--runs {key}={path}: that run was trained with train.seed={actual}, not {expected[key]}; "
                "give it under the name of its seed, or leave it out to have this seed trained"
            )


def run_ablation(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    runs: dict[str, str] | None = None,
    rows: Sequence[str] = tuple(ABLATIONS),
    seeds: Sequence[int] | None = None,
    trials: int = 10,
    floor_images: int | None = None,
    network: FeatureNetwork | None = None,
    cache: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> AblationResult:
    """Trains what is missing, evaluates the chosen rows (the others say "not run"), writes ablation.json,
    .md, .csv and .png under OUT. `floor_images` caps the train crops of the real floor (a random subset),
    each of which costs an Inception pass. With `seeds`, each row is trained once per seed (train.seed=S,
    folder `variant_key`: also the names of `runs`) and gains the t-interval over its seeds."""
    data, out, runs = Path(data), Path(out), dict(runs or {})
    if seeds is not None and (not seeds or len(set(seeds)) != len(seeds)):
        raise UserError(f"--seeds {','.join(map(str, seeds))}: give one or more different seeds, e.g. 0,1,2")
    base_seed = load_config(config, list(overrides)).train.seed
    row_seeds: list[int | None] = list(seeds) if seeds is not None else [None]
    expected = {variant_key(name, seed, base_seed): seed for name in ABLATIONS for seed in row_seeds}
    unknown = (set(runs) - set(expected)) | (set(rows) - set(ABLATIONS))
    if unknown:
        names = f" (one per seed: {', '.join(expected)})" if seeds is not None else ""
        raise UserError(
            f"no row named {', '.join(sorted(unknown))}; the rows are {', '.join(ABLATIONS)}{names}"
        )
    if seeds is not None:
        _check_given_seeds(runs, expected)
    test = load_image_set(data, split="test")
    train_set = load_image_set(data, split="train")
    if floor_images is not None and floor_images < len(train_set):
        chosen = np.sort(np.random.default_rng(0).choice(len(train_set), floor_images, replace=False))
        train_set = train_set.subset(chosen.tolist())
    sample_size = max(2, int(SUBSET_SHARE * len(test)))
    options = dict(trials=trials, sample_size=sample_size, network=network, cache=cache, workers=workers)
    floor = evaluate(train_set, test, progress=progress, **options)
    measured = measure_variants(
        _seed_variants(rows, row_seeds, base_seed, overrides, runs),
        data,
        test,
        split="test",
        runs=out / "runs",
        out=out,
        config=config,
        progress=progress,
        **options,
    )
    table = [_row(REAL_FLOOR, None, floor, None)]
    for name in ABLATIONS:
        seeded = [one for one in measured if one.variant.row == name]
        if not seeded:
            table.append(_row(name, None, None, None))
            continue
        first = seeded[0]
        table.append(_row(name, first.run, first.metrics, first.tone, **_seed_spread(seeded)))
    datasets = sorted({row.get("dataset", "") for row in test.rows} - {""})
    result = AblationResult(
        data=str(data),
        datasets=datasets,
        phantom=names_phantom(datasets),
        n_test=len(test),
        n_floor_train=len(train_set),
        sample_size=sample_size,
        trials=trials,
        rows=table,
        seeds=list(seeds) if seeds is not None else None,
    )
    write_json(out / "ablation.json", result.model_dump(mode="json"))
    write_text(out / "ablation.md", ablation_markdown(result))
    write_text(out / "ablation.csv", _csv(result))
    save_png(_chart(result), out / "ablation.png")
    return result


def _seed_spread(measured: Sequence[Measured]) -> dict[str, Any]:
    """A row's per-seed fields: each seed's metrics, and the t-interval over seeds of FID and of KID."""
    per_seed = [
        SeedMetrics(
            seed=one.seed,
            run=str(one.run),
            fid=one.metrics.fid,
            fid_ci95=one.metrics.fid_ci95,
            kid=one.metrics.kid,
            kid_std=one.metrics.kid_std,
        )
        for one in measured
    ]
    fid_mean, fid_ci95 = _over_seeds([one.fid for one in per_seed])
    kid_mean, kid_ci95 = _over_seeds([one.kid for one in per_seed])
    return dict(
        per_seed=per_seed,
        fid_seed_mean=fid_mean,
        fid_seed_ci95=fid_ci95,
        kid_seed_mean=kid_mean,
        kid_seed_ci95=kid_ci95,
    )


def _over_seeds(values: list[float | None]) -> tuple[float | None, float | None]:
    """The t-interval of VALUES; none when a seed has no value (too few images for that metric)."""
    if None in values:
        return None, None
    return t_interval(values)


def _row(name: str, run: Path | None, metrics, tone, **seed_spread: Any) -> AblationRow:
    """One row of the table; without metrics, a row that was not run."""
    paper, paper_ci = PAPER_FID[name]
    return AblationRow(
        name=name,
        label=LABELS[name],
        run=str(run) if run else None,
        fid=metrics.fid if metrics else None,
        fid_ci95=metrics.fid_ci95 if metrics else None,
        kid=metrics.kid if metrics else None,
        kid_std=metrics.kid_std if metrics else None,
        band_accuracy=tone.band_accuracy if tone else None,
        ita_error=tone.ita_error if tone else None,
        paper_fid=paper,
        paper_fid_ci95=paper_ci,
        evaluated=metrics is not None,
        **seed_spread,
    )


def _number(value: float | None, form: str) -> str:
    return "n/a" if value is None else format(value, form)


def _many_seeds(result: AblationResult) -> bool:
    """Whether the rows were trained with two seeds or more, so that they have an interval over seeds."""
    return len(result.seeds or []) >= 2


def ablation_markdown(result: AblationResult) -> str:
    """Table 1 with the paper's FID beside ours; phantom numbers are said to be phantom numbers."""
    source = "the synthetic phantom dataset" if result.phantom else f"`{result.data}`"
    lines = [
        f"FID on {source} ({result.n_test} test crops; {result.trials} trials of {result.sample_size} "
        "images, mean +/- 1.96 std), next to the paper's (24,000 real test images, 50 trials). The real "
        f"floor compares {result.n_floor_train} real train crops with the same test crops.",
    ]
    seed_columns = []
    if _many_seeds(result):
        seeds = result.seeds or []
        lines.append(
            f"Each row trained with {len(seeds)} seeds (train.seed {', '.join(map(str, seeds))}): our FID "
            f"and KID are the first seed's model, with the paper's per-trial interval; over seeds: "
            f"{result.seed_interval}."
        )
        seed_columns = [f"FID over {len(seeds)} seeds", f"KID over {len(seeds)} seeds"]
    if result.phantom:
        lines.append(
            "**These are phantom numbers**: drawn images, small CPU models. They test the pipeline and "
            "compare the rows with each other; they are not comparable with the paper's numbers."
        )
    columns = ["", "paper FID", "our FID", "our KID", *seed_columns, "tone band accuracy", "ITA error (deg)"]
    lines += ["", _markdown_line(columns), "|" + "---|" * len(columns)]
    for row in result.rows:
        paper = f"{row.paper_fid:.1f} +/- {row.paper_fid_ci95:.1f}"
        if not row.evaluated:
            lines.append(_markdown_line([row.label, paper, *["not run"] * (len(columns) - 2)]))
            continue
        ours = f"{_number(row.fid, '.1f')} +/- {_number(row.fid_ci95, '.1f')}"
        kid = f"{_number(row.kid, '.4f')} +/- {_number(row.kid_std, '.4f')}"
        over_seeds = [
            _over_seeds_text(row.fid_seed_mean, row.fid_seed_ci95, ".1f"),
            _over_seeds_text(row.kid_seed_mean, row.kid_seed_ci95, ".4f"),
        ]
        tone = [_number(row.band_accuracy, ".0%"), _number(row.ita_error, ".1f")]
        lines.append(_markdown_line([row.label, paper, ours, kid, *over_seeds[: len(seed_columns)], *tone]))
    return "\n".join(lines) + "\n"


def _over_seeds_text(mean: float | None, half_width: float | None, form: str) -> str:
    """The mean over seeds +/- its t half width; n/a for the real floor, which trains nothing."""
    return "n/a" if mean is None else f"{mean:{form}} +/- {_number(half_width, form)}"


def _markdown_line(cells: Sequence[str]) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _csv(result: AblationResult) -> str:
    buffer = io.StringIO()
    fields = [field for field in AblationRow.model_fields if field != "per_seed"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow(row.model_dump(exclude={"per_seed"}))
    return buffer.getvalue()


def _seed_bars(axis, result: AblationResult) -> None:
    """Beside each row's first-seed bar: the mean over seeds with its t whiskers, each seed a dot."""
    seeded = [(index, row) for index, row in enumerate(result.rows) if row.fid_seed_mean is not None]
    axis.bar(
        [index + 0.2 for index, _ in seeded],
        [row.fid_seed_mean for _, row in seeded],
        width=0.4,
        yerr=[row.fid_seed_ci95 or 0.0 for _, row in seeded],
        capsize=3,
        color="#dd8452",
        label=f"mean of {len(result.seeds or [])} seeds, t 95%",
    )
    for index, row in seeded:
        values = [one.fid for one in row.per_seed]
        axis.plot([index + 0.2] * len(values), values, "k.", markersize=4)
    axis.legend(fontsize=7)


def _chart(result: AblationResult) -> Image.Image:
    """Bars of FID with their 95% whiskers: ours beside the paper's, one pair per row; with several seeds,
    ours has two bars a row: the first seed's (per-trial whiskers) and the mean over seeds (t whiskers)."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    ours_axis, paper_axis = figure.subplots(1, 2)
    names = [SHORT_LABELS[row.name] for row in result.rows]
    positions = range(len(result.rows))
    ours = [row.fid or 0.0 for row in result.rows]
    ours_ci = [row.fid_ci95 or 0.0 for row in result.rows]
    if _many_seeds(result):
        first = f"seed {(result.seeds or [0])[0]}, 1.96 std of trials"
        shifted = [position - 0.2 for position in positions]
        ours_axis.bar(shifted, ours, width=0.4, yerr=ours_ci, capsize=3, color="#4c72b0", label=first)
        _seed_bars(ours_axis, result)
    else:
        ours_axis.bar(positions, ours, yerr=ours_ci, capsize=4, color="#4c72b0")
    for position, row in zip(positions, result.rows, strict=True):
        if not row.evaluated:
            ours_axis.text(position, 0, "not run", rotation=90, ha="center", va="bottom", fontsize=8)
    ours_axis.set_title("ours" + (" (phantom)" if result.phantom else ""))
    paper_axis.bar(
        positions,
        [r.paper_fid for r in result.rows],
        yerr=[r.paper_fid_ci95 for r in result.rows],
        capsize=4,
        color="#999999",
    )
    paper_axis.set_title("paper (Table 1)")
    for axis in (ours_axis, paper_axis):
        axis.set_xticks(list(positions), names, fontsize=8, rotation=30, ha="right")
        axis.set_ylabel("FID (lower is better)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
