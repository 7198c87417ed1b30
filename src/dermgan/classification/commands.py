"""`dermgan classify ...`: train a classifier, evaluate it, compare a baseline with an augmented run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dermgan import console
from dermgan.errors import UserError
from dermgan.options import ConfigOverrides, JsonFlag, Resume
from dermgan.parsing import split_list

classify_app = typer.Typer(
    no_args_is_help=True,
    help="Skin-condition classifiers with and without synthetic images: train, eval, compare.",
)

DataManifest = Annotated[Path, typer.Option(help="The real manifest (CSV or JSONL) of uncropped photos.")]
Split = Annotated[str, typer.Option(help="The split to score, under the run's own case split.")]
Resamples = Annotated[int, typer.Option(help="Bootstrap resamples of the test images for the intervals.")]
Progress = Annotated[bool, typer.Option(help="Show progress bars.")]


def _names(text: str | None) -> list[str]:
    return split_list(text)


@classify_app.command("train")
def train_command(
    data: Annotated[
        Path | None, typer.Option(help="The real manifest (CSV or JSONL) of uncropped photos.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory to create.")] = None,
    extra: Annotated[
        Path | None,
        typer.Option(help="A synthetic manifest from `dermgan generate`, added to training only."),
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option(help="Run directory(ies) of the generator(s) that made --extra, for the leakage guard."),
    ] = None,
    splits: Annotated[
        Path | None,
        typer.Option(
            help="splits.csv or prepared folder (default: splits.csv beside the manifest, else split column)"
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(help="Local weights to start from (.safetensors or .pt); nothing is downloaded."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config of data, model and train keys.")] = None,
    set_: ConfigOverrides = None,
    resume: Resume = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Train a classifier on the train cases (+ synthetic images); checkpoints, logs, resumable."""
    from dermgan.classification.run_dir import CURVE
    from dermgan.classification.trainer import train_classifier

    if resume is not None and any(
        v is not None for v in (data, out, extra, generator, splits, weights, config)
    ):
        raise UserError("--resume RUN_DIR takes no other data or config option (use --set to change a key)")
    summary = train_classifier(
        data,
        out,
        extra=extra,
        splits=splits,
        generators=_names(generator),
        weights=weights,
        config=config,
        overrides=set_ or [],
        resume=resume,
        progress=progress,
    )
    counts = ", ".join(f"{name} {count}" for name, count in summary.train_counts.items())
    validation = f", validation top-1 {summary.val_top1:.3f}" if summary.val_top1 is not None else ""
    if summary.loss is None:
        console.out.print(
            f"{summary.run_dir} is already trained to its last step ({summary.max_steps}); to train longer, "
            f"--resume it with a larger --set train.epochs=E",
            markup=False,
        )
    else:
        console.out.print(
            f"trained to step {summary.step} in {summary.run_dir}: loss {summary.loss:.4g}{validation}; "
            f"training images per class: {counts} ({summary.n_synthetic} synthetic)",
            markup=False,
        )
    if summary.curve:
        points = ", ".join(f"{point.epoch:g}: {point.val_top1:.3f}" for point in summary.curve)
        console.out.print(f"validation top-1 after each epoch: {points}", markup=False)
    if summary.best is not None:
        stopped = (
            "; stopped early (train.patience epochs without a better one)" if summary.stopped_early else ""
        )
        console.out.print(
            f"kept epoch {summary.best.epoch:g} (validation top-1 {summary.best.val_top1:.3f}){stopped}; "
            f"learning curve in {Path(summary.run_dir) / CURVE}",
            markup=False,
        )
    if summary.pretrained is not None:
        weights = summary.pretrained
        console.out.print(
            f"started from {weights.arch} ImageNet weights ({weights.package} {weights.version}, "
            f"{weights.licence}, trained on {weights.trained_on}); random start: "
            f"{', '.join(weights.left_out) or 'nothing'}",
            markup=False,
        )
    if summary.weights:
        left_out = ", ".join(summary.weights_left_out) or "nothing"
        console.out.print(
            f"started from {summary.weights}; tensors it did not hold (random start): {left_out}",
            markup=False,
        )
    if json_output:
        console.print_json_line(summary)


@classify_app.command("eval")
def eval_command(
    model: Annotated[Path, typer.Option(help="A classifier run directory.")],
    data: DataManifest,
    split: Split = "test",
    out: Annotated[Path | None, typer.Option(help="Folder for eval.json (default: the run).")] = None,
    resamples: Resamples = 2000,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Top-1, per-class precision/recall/F1, per skin type, confusion matrix, with 95% intervals."""
    from dermgan.classification.evaluate import evaluate_classifier
    from dermgan.classification.tables import class_rows, eval_skin_rows, rich_table

    result = evaluate_classifier(model, data, split=split, out=out, resamples=resamples, progress=progress)
    console.out.print(
        rich_table(f"{result.split}: per condition (95% bootstrap intervals)", class_rows(result))
    )
    console.out.print(rich_table("top-1 per skin type", eval_skin_rows(result)))
    console.out.print(
        f"top-1 {result.top1.text()} on {result.n_images} {result.split} images; "
        f"wrote {Path(out or model) / 'eval.json'}",
        markup=False,
    )
    if json_output:
        console.print_json_line(result)


@classify_app.command("compare")
def compare_command(
    baseline: Annotated[Path, typer.Option(help="The run trained without synthetic images.")],
    augmented: Annotated[Path, typer.Option(help="The run trained with them.")],
    data: DataManifest,
    split: Split = "test",
    out: Annotated[
        Path | None, typer.Option(help="Folder for compare.json, .md and .png (default: the augmented run).")
    ] = None,
    resamples: Resamples = 2000,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Both runs on the same test images: top-1 with paired tests, F1 per condition and skin type, Fig. 8."""
    from dermgan.classification.compare import compare_classifiers
    from dermgan.classification.tables import (
        compare_class_rows,
        compare_skin_rows,
        compare_summary,
        rich_table,
    )

    result = compare_classifiers(
        baseline, augmented, data, split=split, out=out, resamples=resamples, progress=progress
    )
    console.out.print(rich_table("F1 per condition (95% bootstrap intervals)", compare_class_rows(result)))
    console.out.print(rich_table("top-1 per skin type", compare_skin_rows(result)))
    for line in [*compare_summary(result), f"wrote {result.markdown}, {result.plot} and compare.json"]:
        console.out.print(line, markup=False)
    if json_output:
        console.print_json_line(result)
