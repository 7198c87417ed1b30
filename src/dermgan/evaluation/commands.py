"""`dermgan eval ...`: each command calls one evaluation function, prints a table, writes DIR/<name>.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dermgan import console
from dermgan.errors import UserError
from dermgan.options import FeatureCache, JsonFlag, Workers
from dermgan.parsing import split_list

if TYPE_CHECKING:
    from dermgan.evaluation.fid import FidResult, Metrics

eval_app = typer.Typer(
    no_args_is_help=True,
    help="Evaluate generators: fid, kid, tone, roi, memorisation, diversity, ablation, grid.",
)

SetArgument = Annotated[
    Path, typer.Argument(help="Image folder, prepared or generated folder, or manifest (real or synthetic).")
]
SecondSetArgument = Annotated[
    Path | None,
    typer.Argument(help="A second set shown beside DATA (synthetic beside real), paired with its crops."),
]
ResultsOut = Annotated[Path, typer.Option(help="Folder for the JSON result (and plot).")]
RealSplit = Annotated[
    str | None, typer.Option(help="Keep only this split of sets with splits (plain folders, synthetic: all).")
]
Progress = Annotated[bool, typer.Option(help="Show a progress bar.")]


@eval_app.command("tone")
def tone_command(
    data: SetArgument,
    out: ResultsOut,
    data2: SecondSetArgument = None,
    split: RealSplit = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Skin-tone fidelity per requested Fitzpatrick type, band accuracy and ITA error first (+ tone.png)."""
    from dermgan.evaluation.tone import evaluate_tone, tone_summary, tone_table

    report = evaluate_tone(data, data2, out=out, split=split, progress=progress)
    console.out.print(f"[yellow]{report.note}[/]")
    console.out.print(tone_table(report))
    for line in [*tone_summary(report), f"wrote {out / 'tone.json'} and {report.plot}"]:
        console.out.print(line, markup=False)
    if json_output:
        console.print_json_line(report)


@eval_app.command("roi")
def roi_command(
    data: SetArgument,
    out: ResultsOut,
    data2: SecondSetArgument = None,
    split: RealSplit = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Lesion contrast, box-edge artifacts and lesion shapes inside the boxes, per condition (roi.json)."""
    from dermgan.evaluation.roi import evaluate_roi, morphology_table, roi_table

    report = evaluate_roi(data, data2, out=out, split=split, progress=progress)
    console.out.print(roi_table(report))
    console.out.print(report.note, markup=False)
    console.out.print(morphology_table(report))
    console.out.print(report.morphology_note, markup=False)
    console.out.print(f"wrote {out / 'roi.json'}", markup=False)
    if json_output:
        console.print_json_line(report)


def compare_image_sets(
    context: typer.Context,
    real: SetArgument,
    fake: SetArgument,
    trials: Annotated[
        int, typer.Option(help="FID repeats on random subsets, for the interval (paper: 50).")
    ] = 10,
    sample_size: Annotated[
        int | None, typer.Option(help="Images per set in each FID trial (default: the smaller set's size).")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Also per cell of these manifest columns, e.g. condition,skin_type.")
    ] = None,
    split: RealSplit = None,
    out: Annotated[Path | None, typer.Option(help="Folder for fid.json (kid.json for `eval kid`).")] = None,
    cache: FeatureCache = None,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass of the feature network.")] = 64,
    workers: Workers = None,
    seed: Annotated[int, typer.Option(help="Seed of the trial and KID subsets.")] = 0,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    from dermgan.evaluation.fid import MIN_IMAGES_FOR_FID, evaluate
    from dermgan.training import distributed

    command = context.info_name or "fid"
    keys = split_list(by) if by is not None else None
    if keys == []:
        raise UserError(f"--by {by!r} names no column; give e.g. condition,skin_type")
    place = distributed.start()
    try:
        result = evaluate(
            real,
            fake,
            trials=trials,
            sample_size=sample_size,
            by=keys,
            cache=cache,
            out=out,
            result_name=command,
            split=split,
            batch_size=batch_size,
            workers=workers,
            device=place.device,
            seed=seed,
            progress=progress,
        )
    finally:
        distributed.stop()
    if not place.is_main:
        return
    console.out.print(_metrics_table(result, lead=command))
    sizes = f"{result.sample_size} images per set" if result.sample_size else "subsets"
    lines = [
        f"{result.n_real} real vs {result.n_fake} fake images, {result.n_features_computed} embedded now "
        f"({result.feature_network}), the rest from the cache",
        f"FID: mean ± 1.96 std over {result.trials} trials of {sizes}; "
        f"fewer than {MIN_IMAGES_FOR_FID} images on a side: KID only",
    ]
    if out:
        lines.append(f"wrote {out / f'{command}.json'}")
    console.out.print("\n".join(lines), markup=False)
    if json_output:
        console.print_json_line(result)


eval_app.command(
    "fid", help="FID (mean +/- 1.96 std over trials, paper Table 1), KID, precision, recall of FAKE vs REAL."
)(compare_image_sets)
eval_app.command(
    "kid", help="KID (usable on small sets), with FID, precision and recall where there are enough images."
)(compare_image_sets)


def _metrics_table(result: FidResult, lead: str) -> Table:
    """One row for the whole sets and one per cell; the lead metric's column first."""
    columns = {"FID ± 95%": _fid_text, "KID ± std": _kid_text}
    if lead == "kid":
        columns = dict(reversed(columns.items()))
    table = Table(title=f"{result.fake} vs {result.real}", title_justify="left")
    for name in ["images", "real", "fake", *columns, "precision", "recall", "note"]:
        text = name in ("images", "note")
        table.add_column(name, justify="left" if text else "right", no_wrap=name != "note")
    for label, metrics in [("all", result), *((" / ".join(c.cell.values()), c) for c in result.cells)]:
        table.add_row(
            label,
            str(metrics.n_real),
            str(metrics.n_fake),
            *(text(metrics) for text in columns.values()),
            _number(metrics.precision, 2),
            _number(metrics.recall, 2),
            metrics.note,
        )
    return table


def _fid_text(metrics: Metrics) -> str:
    if metrics.fid is None:
        return "-"
    return f"{metrics.fid:.1f}" + (f" ± {metrics.fid_ci95:.1f}" if metrics.fid_trials else "")


def _kid_text(metrics: Metrics) -> str:
    return "-" if metrics.kid is None else f"{metrics.kid:.4f} ± {metrics.kid_std:.4f}"


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@eval_app.command("memorisation")
def memorisation_command(
    real_train: Annotated[
        Path, typer.Argument(help="The generator's real training images (folder or manifest).")
    ],
    fake: SetArgument,
    out: Annotated[
        Path | None, typer.Option(help="Folder for memorisation.json and memorisation.png.")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Keep only this split of a real manifest or prepared folder.")
    ] = "train",
    top: Annotated[
        int, typer.Option(help="Closest pairs listed and pictured (near-copies always are).")
    ] = 16,
    cache: FeatureCache = None,
    workers: Workers = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Near-copies of training photos among synthetic images (nearest neighbours in Inception features)."""
    from dermgan.evaluation.memorisation import check_memorisation

    if top < 0:
        raise UserError("--top must be 0 or more")
    result = check_memorisation(
        real_train, fake, out=out, split=split, top=top, cache=cache, workers=workers, progress=progress
    )
    table = Table(title="closest synthetic-training pairs", title_justify="left")
    for name in ("distance", "synthetic", "nearest training image"):
        table.add_column(name, justify="right" if name == "distance" else "left")
    for pair in result.closest:
        flag = " NEAR-COPY" if pair.distance <= result.copy_threshold else ""
        table.add_row(f"{pair.distance:.2f}{flag}", pair.synthetic, pair.training)
    console.out.print(table)
    lines = [
        f"{result.n_near_copies} of {result.n_fake} synthetic images ({result.near_copy_share:.1%}) are "
        f"nearer a training image than {result.copy_threshold:.2f}, the distance within which only "
        f"{result.copy_quantile:.0%} of the {result.n_real} real training images have their nearest "
        "neighbour",
        f"median distance to the nearest training image: synthetic {result.fake_to_real_median:.2f}, "
        f"real {result.real_to_real_median:.2f} (a copying generator sits well below the real one)",
    ]
    if out:
        lines.append(
            f"wrote {out / 'memorisation.json'}" + (" and memorisation.png" if result.closest else "")
        )
    console.out.print("\n".join(lines), markup=False)
    if json_output:
        console.print_json_line(result)


@eval_app.command("diversity")
def diversity_command(
    real: SetArgument,
    fake: Annotated[
        Path,
        typer.Argument(help="A `dermgan generate --samples-per-map K` output (K >= 2), or its manifest."),
    ],
    out: Annotated[Path | None, typer.Option(help="Folder for diversity.json.")] = None,
    split: RealSplit = None,
    cache: FeatureCache = None,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass of the feature network.")] = 64,
    workers: Workers = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Per-map diversity of the samples of each map against real crops of its condition and skin type."""
    from dermgan.evaluation.diversity import diversity_table, evaluate_diversity

    result = evaluate_diversity(
        real,
        fake,
        out=out,
        split=split,
        cache=cache,
        batch_size=batch_size,
        workers=workers,
        progress=progress,
    )
    console.out.print(diversity_table(result))
    overall = result.overall
    lines = [
        f"{overall.n_maps} maps, {overall.n_samples} samples ({result.n_single_sample_maps} one-sample maps "
        f"left out); real reference: {result.reference}",
        "ratio = synthetic / real diversity (1: a map varies as much as real photos of its kind; 0: one "
        "image per map); precision: share of the samples inside the real k-NN manifold",
    ]
    if result.note:
        lines.append(result.note)
    if out:
        lines.append(f"wrote {out / 'diversity.json'}")
    console.out.print("\n".join(lines), markup=False)
    if json_output:
        console.print_json_line(result)


def _runs(text: str | None) -> dict[str, str]:
    """'dermgan=runs/a,no-roi-loss=runs/b' by name, or four bare run folders in the order of the rows."""
    from dermgan.evaluation.ablation import ABLATIONS

    items = split_list(text)
    named = [item for item in items if "=" in item]
    if (named and len(named) != len(items)) or (not named and items and len(items) != len(ABLATIONS)):
        raise UserError(
            f"--runs {text!r}: give name=RUN_DIR pairs (names: {', '.join(ABLATIONS)}) "
            f"or exactly {len(ABLATIONS)} run folders in that order"
        )
    if not named:
        return dict(zip(ABLATIONS, items, strict=False))
    return dict(item.split("=", 1) for item in named)


def _seeds(text: str | None) -> list[int] | None:
    """'0,1,2' as seeds; None (one run per row, its config's seed) without the option."""
    if text is None:
        return None
    try:
        return [int(item) for item in text.split(",")]
    except ValueError:
        raise UserError(f"--seeds {text!r}: give whole numbers separated by commas, e.g. 0,1,2") from None


@eval_app.command("ablation")
def ablation_command(
    data: Annotated[Path, typer.Option(help="A folder written by `dermgan data prepare`.")],
    out: Annotated[Path, typer.Option(help="Folder for the runs, the synthetic sets and ablation.*.")],
    config: Annotated[
        Path | None,
        typer.Option(help="Base config of the rows trained here: a YAML file or a preset (e.g. demo-cpu)."),
    ] = None,
    runs: Annotated[
        str | None,
        typer.Option(
            help="Already-trained rows: name=RUN_DIR,... (with --seeds, name-seedS for seed S other than "
            "the config's) or the four runs in the rows' order."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key of every trained row (repeatable)."),
    ] = None,
    rows: Annotated[
        str | None,
        typer.Option(help="Only these rows, e.g. dermgan,no-roi-loss; the others say 'not run'."),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="Train each row once per seed (train.seed), e.g. 0,1,2, and add the t-interval over seeds "
            "(default: one run per row)."
        ),
    ] = None,
    trials: Annotated[int, typer.Option(help="FID repeats on random subsets, for the intervals.")] = 10,
    floor_images: Annotated[
        int | None,
        typer.Option(help="Real train crops of the real floor row (a seeded subset; default: all)."),
    ] = None,
    cache: FeatureCache = None,
    workers: Workers = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """The paper's Table 1: DermGAN, its three ablations and the real floor on the same test crops."""
    from dermgan.evaluation.ablation import ABLATIONS, ablation_markdown, run_ablation

    if trials < 2:
        raise UserError("--trials must be at least 2 for an interval")
    if floor_images is not None and floor_images < 2:
        raise UserError("--floor-images must be at least 2")
    result = run_ablation(
        data,
        out,
        config=config,
        overrides=set_ or [],
        runs=_runs(runs),
        rows=split_list(rows) if rows else tuple(ABLATIONS),
        seeds=_seeds(seeds),
        trials=trials,
        floor_images=floor_images,
        cache=cache,
        workers=workers,
        progress=progress,
    )
    console.out.print(ablation_markdown(result), markup=False)
    console.out.print(f"wrote {out}/ablation.json, .md, .csv and .png", markup=False)
    if json_output:
        console.print_json_line(result)


@eval_app.command("grid")
def grid_command(
    data: Annotated[Path, typer.Option(help="A folder written by `dermgan data prepare`.")],
    out: Annotated[Path, typer.Option(help="Folder for the runs, the val and test renders and grid.json.")],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="A config key and its values, e.g. loss.lambda_fm=0,10 (repeatable: every combination)."
        ),
    ] = None,
    variants: Annotated[
        Path | None,
        typer.Option(help="A YAML file of named variants instead: `name: {section.key: value, ...}` each."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Base config of every variant: a YAML file or a preset (e.g. paper).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key of every variant (repeatable)."),
    ] = None,
    trials: Annotated[int, typer.Option(help="FID repeats on random subsets, for the intervals.")] = 10,
    cache: FeatureCache = None,
    workers: Workers = None,
    progress: Progress = True,
    json_output: JsonFlag = False,
) -> None:
    """Grid search: trains each variant, ranks them by validation KID, measures the best once on test."""
    from dermgan.evaluation.grid import chosen_summary, grid_table, grid_variants, run_grid

    if trials < 2:
        raise UserError("--trials must be at least 2 for an interval")
    result = run_grid(
        data,
        out,
        grid_variants(grid or [], variants),
        config=config,
        overrides=set_ or [],
        trials=trials,
        cache=cache,
        workers=workers,
        progress=progress,
    )
    console.out.print(grid_table(result))
    console.out.print(f"{chosen_summary(result)}\nwrote {out / 'grid.json'}", markup=False)
    if json_output:
        console.print_json_line(result)
