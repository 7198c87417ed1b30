"""The paper's Table 1: DermGAN and its three ablations, and the real-data floor, on one held-out set.

Each model is trained (or taken from `runs`), then renders the held-out (test) crops from their own maps,
so every synthetic image has a real twin: FID and KID compare the two sets, tone fidelity compares each
image with its twin. The floor is the FID of real train crops against the same real test crops. Every FID
uses the same subset size (80% of the test crops) and number of trials, so the intervals are comparable.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from pydantic import BaseModel

from dermgan.data.phantom.dataset import names_phantom
from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork
from dermgan.evaluation.fid import evaluate
from dermgan.evaluation.image_sets import load_image_set
from dermgan.evaluation.tone import evaluate_tone
from dermgan.files import save_png, write_json, write_text
from dermgan.generation.generate import render_crops
from dermgan.training.checkpoint import latest_checkpoint
from dermgan.training.release import WEIGHTS
from dermgan.training.trainer import train

ABLATIONS: dict[str, tuple[str, ...]] = {
    "dermgan": (),
    "no-resize-conv": ("model.upsample=transposed",),
    "no-roi-loss": ("loss.lambda_roi=0",),
    "no-feature-matching": ("loss.lambda_fm=0",),
}
"""Each row of Table 1 as overrides of the base config (configs/ablations/*.yaml: the same for paper.yaml)."""
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


class AblationRow(BaseModel):
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


def train_row(
    name: str,
    data: Path,
    run: Path,
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
) -> Path:
    """Row NAME of Table 1 trained into RUN (the base config with the row's overrides): kept when its
    generator is released, resumed from its last checkpoint, or trained from the start."""
    if (run / WEIGHTS).exists():
        return run
    every = [*overrides, *ABLATIONS[name]]
    if latest_checkpoint(run) is not None:
        train(resume=run, overrides=every, progress=progress)
    else:
        train(data, run, config=config, overrides=every, progress=progress)
    return run


def _trained(name: str, data: Path, out: Path, runs: dict[str, str], config, overrides, progress) -> Path:
    """The run of one row: given, or trained under OUT/runs."""
    if name in runs:
        run = Path(runs[name])
        if not (run / WEIGHTS).exists():
            raise UserError(f"--runs: {run} has no {WEIGHTS}; finish its training first")
        return run
    return train_row(name, data, out / "runs" / name, config=config, overrides=overrides, progress=progress)


def run_ablation(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    runs: dict[str, str] | None = None,
    rows: Sequence[str] = tuple(ABLATIONS),
    trials: int = 10,
    floor_images: int | None = None,
    network: FeatureNetwork | None = None,
    cache: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> AblationResult:
    """Trains what is missing, evaluates the chosen rows (the others say "not run"), writes ablation.json,
    .md, .csv and .png under OUT. `floor_images` caps the train crops of the real floor (a random subset),
    each of which costs an Inception pass."""
    data, out, runs = Path(data), Path(out), dict(runs or {})
    unknown = (set(runs) | set(rows)) - set(ABLATIONS)
    if unknown:
        raise UserError(f"no row named {', '.join(sorted(unknown))}; the rows are {', '.join(ABLATIONS)}")
    test = load_image_set(data, split="test")
    train_set = load_image_set(data, split="train")
    if floor_images is not None and floor_images < len(train_set):
        chosen = np.sort(np.random.default_rng(0).choice(len(train_set), floor_images, replace=False))
        train_set = train_set.subset(chosen.tolist())
    sample_size = max(2, int(SUBSET_SHARE * len(test)))
    options = dict(
        trials=trials,
        sample_size=sample_size,
        network=network,
        cache=cache,
        workers=workers,
        progress=progress,
    )
    floor = evaluate(train_set, test, **options)
    table = [_row(REAL_FLOOR, None, floor, None)]
    for name in ABLATIONS:
        if name not in rows:
            table.append(_row(name, None, None, None))
            continue
        run = _trained(name, data, out, runs, config, overrides, progress)
        synthetic = out / "synthetic" / name
        render_crops(run, data, synthetic, split="test", progress=progress)
        metrics = evaluate(test, synthetic, **options)
        tone = evaluate_tone(data, synthetic, out=out / "tone" / name, split="test", progress=progress)
        table.append(_row(name, run, metrics, tone.sets[1].overall))
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
    )
    write_json(out / "ablation.json", result.model_dump(mode="json"))
    write_text(out / "ablation.md", ablation_markdown(result))
    write_text(out / "ablation.csv", _csv(result))
    save_png(_chart(result), out / "ablation.png")
    return result


def _row(name: str, run: Path | None, metrics, tone) -> AblationRow:
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
    )


def _number(value: float | None, form: str) -> str:
    return "n/a" if value is None else format(value, form)


def ablation_markdown(result: AblationResult) -> str:
    """Table 1 with the paper's FID beside ours; phantom numbers are said to be phantom numbers."""
    source = "the synthetic phantom dataset" if result.phantom else f"`{result.data}`"
    lines = [
        f"FID on {source} ({result.n_test} test crops; {result.trials} trials of {result.sample_size} "
        "images, mean +/- 1.96 std), next to the paper's (24,000 real test images, 50 trials). The real "
        f"floor compares {result.n_floor_train} real train crops with the same test crops.",
    ]
    if result.phantom:
        lines.append(
            "**These are phantom numbers**: drawn images, small CPU models. They test the pipeline and "
            "compare the rows with each other; they are not comparable with the paper's numbers."
        )
    lines += [
        "",
        "| | paper FID | our FID | our KID | tone band accuracy | ITA error (deg) |",
        "|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        if not row.evaluated:
            paper = f"{row.paper_fid:.1f} +/- {row.paper_fid_ci95:.1f}"
            lines.append(f"| {row.label} | {paper} | not run | not run | not run | not run |")
            continue
        ours = f"{_number(row.fid, '.1f')} +/- {_number(row.fid_ci95, '.1f')}"
        kid = f"{_number(row.kid, '.4f')} +/- {_number(row.kid_std, '.4f')}"
        lines.append(
            f"| {row.label} | {row.paper_fid:.1f} +/- {row.paper_fid_ci95:.1f} | {ours} | {kid} | "
            f"{_number(row.band_accuracy, '.0%')} | {_number(row.ita_error, '.1f')} |"
        )
    return "\n".join(lines) + "\n"


def _csv(result: AblationResult) -> str:
    buffer = io.StringIO()
    fields = list(AblationRow.model_fields)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow(row.model_dump())
    return buffer.getvalue()


def _chart(result: AblationResult) -> Image.Image:
    """Bars of FID with their 95% whiskers: ours beside the paper's, one pair per row."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    ours_axis, paper_axis = figure.subplots(1, 2)
    names = [SHORT_LABELS[row.name] for row in result.rows]
    positions = range(len(result.rows))
    ours = [row.fid or 0.0 for row in result.rows]
    ours_ci = [row.fid_ci95 or 0.0 for row in result.rows]
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
