"""The `dermgan` command: parses arguments, calls the stage functions, prints their results. Nothing else."""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from dermgan import console
from dermgan.classification.commands import classify_app
from dermgan.errors import BUG_REPORT, FAULTS, UserError, fault_message
from dermgan.evaluation.commands import eval_app
from dermgan.options import ConfigOverrides, JsonFlag, Resume, StrictPaths, Workers
from dermgan.parsing import parse_counts, split_list
from dermgan.study.commands import study_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
data_app = typer.Typer(no_args_is_help=True, help="Datasets: phantom, import, validate, prepare, show.")
app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
app.add_typer(classify_app, name="classify")
app.add_typer(study_app, name="study")


def _names(text: str | None) -> list[str] | None:
    """ "a, b" -> ["a", "b"]; None stays None."""
    if text is None:
        return None
    names = split_list(text)
    if not names:
        raise UserError(f"{text!r} names nothing; give a comma-separated list")
    return names


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        console.err.print(f"warning: {warning}", markup=False, soft_wrap=True)


def _pair(text: str, option: str) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"{option} {text!r} must be two integers like 320,640") from None
    if not 0 < low <= high:
        raise UserError(f"{option} {text!r} must be two positive integers, the first not larger")
    return low, high


@data_app.command("phantom")
def data_phantom(
    out: Annotated[Path, typer.Option(help="Folder to write the phantom dataset into.")],
    n: Annotated[int, typer.Option(help="Number of photos.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 0,
    size_range: Annotated[str, typer.Option(help="Photo width/height range in pixels, A,B.")] = "320,640",
    workers: Workers = None,
) -> None:
    """Make the built-in synthetic phantom dataset (photos, manifest.csv, COCO JSON)."""
    if n < 1:
        raise UserError("--n must be at least 1")
    if seed < 0:
        raise UserError(f"--seed {seed} must be 0 or more")
    sizes = _pair(size_range, "--size-range")
    from dermgan.data.phantom import make_phantom

    summary = make_phantom(out, n, seed=seed, size_range=sizes, workers=workers)
    console.out.print(
        f"wrote {summary.n_images} phantom photos to {out} (manifest.csv, annotations.coco.json)"
    )
    console.out.print(
        "[yellow]The phantom is synthetic: use it to try the pipeline, not to draw clinical conclusions.[/]"
    )


@data_app.command("import")
def data_import(
    format: Annotated[
        str, typer.Argument(help="coco, isic, fitzpatrick17k, scin, pad-ufes-20, ddi or manifest.")
    ],
    src: Annotated[Path, typer.Argument(help="The dataset's folder or annotation file.")],
    out: Annotated[Path, typer.Option(help="Folder for manifest.csv and images/.")],
    boxes: Annotated[
        str | None, typer.Option(help="'whole-image', or a COCO JSON of boxes joined by file name.")
    ] = None,
    skin_types: Annotated[Path | None, typer.Option(help="CSV of file_name,skin_type to join.")] = None,
    copy: Annotated[bool, typer.Option("--copy", help="Copy images instead of hard-linking them.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Convert a public dataset layout into a dermgan manifest."""
    from dermgan.data.importers import import_dataset

    summary = import_dataset(format, src, out, boxes=boxes, skin_types=skin_types, link=not copy)
    for warning in summary.warnings:
        console.err.print(f"warning: {warning}", markup=False)
    top = ", ".join(f"{name} {count}" for name, count in list(summary.label_counts.items())[:8])
    console.out.print(
        f"{summary.n_listed} labelled images listed, {summary.n_conditions} conditions ({top}"
        f"{', ...' if summary.n_conditions > 8 else ''}); skin types: "
        + ", ".join(f"{name} {count}" for name, count in summary.skin_type_counts.items()),
        markup=False,
    )
    console.out.print(
        f"imported {summary.n_images} images into {summary.manifest} "
        f"({summary.n_without_boxes} without boxes, {len(summary.skipped)} skipped, "
        f"{summary.n_missing_files} of them missing files; see import.json)",
        markup=False,
    )
    if summary.n_without_boxes:
        console.out.print("Photos without boxes cannot be cropped: import with --boxes whole-image|FILE.json")
    if json_output:
        console.print_json_line(summary)


@data_app.command("validate")
def data_validate(
    manifest: Annotated[Path, typer.Argument(help="A manifest (CSV or JSONL).")],
    no_images: Annotated[
        bool, typer.Option("--no-images", help="Check rows only; do not open images.")
    ] = False,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Usable if any row is good; report the rest.")
    ] = False,
    conditions: Annotated[str | None, typer.Option(help="Allowed conditions, comma-separated.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for validate.json and skipped.csv.")] = None,
    strict_paths: StrictPaths = False,
    workers: Workers = None,
    json_output: JsonFlag = False,
) -> None:
    """Check every row of a manifest and print every problem at once, then a summary."""
    from dermgan.data.validate import validate_manifest, write_validation

    report, _ = validate_manifest(
        manifest,
        check_image_files=not no_images,
        conditions=_names(conditions),
        skip_bad=skip_bad,
        strict_paths=strict_paths,
        workers=workers,
    )
    for problem in report.problems:
        where = f" ({problem.image})" if problem.image else ""
        console.err.print(
            f"row {problem.row}{where}, {problem.column}: {problem.reason}", markup=False, soft_wrap=True
        )
    _warn(report.warnings)
    written = write_validation(report, out or manifest.parent, skip_bad=skip_bad)
    console.out.print(console.counts_table("images per condition x skin type", report.counts))
    console.out.print(
        f"{report.n_usable} of {report.n_rows} rows usable; {report.n_without_boxes} without boxes; "
        f"{report.n_cases} cases; splits: {', '.join(f'{k} {v}' for k, v in report.splits.items())}"
    )
    console.out.print(
        f"{len(report.problems)} problem(s); report: {', '.join(map(str, written))}", markup=False
    )
    if json_output:
        console.print_json_line(report)
    if not report.usable:
        raise typer.Exit(1)


@data_app.command("prepare")
def data_prepare(
    manifest: Annotated[Path, typer.Argument(help="A validated manifest.")],
    out: Annotated[Path, typer.Option(help="Folder for the prepared crops.")],
    size: Annotated[int, typer.Option(help="Crop side in pixels (256 is the paper's).")] = 256,
    crops_per_group: Annotated[int, typer.Option(help="Random crops per group of adjacent ROIs.")] = 1,
    split: Annotated[str, typer.Option(help="Train,val,test fractions of cases.")] = "0.7,0.1,0.2",
    conditions: Annotated[
        str | None, typer.Option(help="Keep only these conditions (comma-separated).")
    ] = None,
    hold_back: Annotated[
        str | None,
        typer.Option(
            help="Keep this many train cases of a condition and hold back the rest from every training "
            "(split 'reserve'), like melanoma=8: real photos a data-value study adds."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for splits and crops.")] = 0,
    min_skin: Annotated[float, typer.Option(help="Least fraction of skin in a crop's healthy part.")] = 0.5,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Leave unusable rows out instead of stopping.")
    ] = False,
    strict_paths: StrictPaths = False,
    allow_empty_conditions: Annotated[
        bool,
        typer.Option(
            "--allow-empty-conditions",
            help="Keep a condition whose photos all failed in the codebook instead of stopping.",
        ),
    ] = False,
    workers: Workers = None,
    json_output: JsonFlag = False,
) -> None:
    """Crop ROI-centred squares, draw their semantic maps and ROI masks, and split by case."""
    from dermgan.data.prepare import prepare_dataset
    from dermgan.data.splits import parse_fractions

    summary = prepare_dataset(
        manifest,
        out,
        size=size,
        crops_per_group=crops_per_group,
        split=parse_fractions(split),
        hold_back=parse_counts(hold_back, "--hold-back"),
        conditions=_names(conditions),
        seed=seed,
        min_skin=min_skin,
        skip_bad=skip_bad,
        strict_paths=strict_paths,
        allow_empty_conditions=allow_empty_conditions,
        workers=workers,
    )
    for problem in summary.problems:
        console.err.print(
            f"skipped row {problem.row} ({problem.image}), {problem.column}: {problem.reason}",
            markup=False,
            soft_wrap=True,
        )
    _warn(summary.warnings)
    console.out.print(console.counts_table("crops per condition x skin type", summary.counts))
    console.out.print(
        f"{summary.n_crops} crops of {summary.size}px from {summary.n_cropped_images} photos in {out}; "
        f"per split: {', '.join(f'{k} {v}' for k, v in summary.crops_per_split.items())}; "
        f"{summary.n_without_boxes} photos without boxes left out; "
        f"{summary.n_refused_windows} windows refused as mostly not skin"
    )
    if json_output:
        console.print_json_line(summary)


@data_app.command("show")
def data_show(
    prepared: Annotated[
        Path, typer.Argument(help="A folder written by `dermgan data prepare` or `dermgan generate`.")
    ],
    out: Annotated[Path, typer.Option(help="PNG file to write.")],
    n: Annotated[int, typer.Option(help="Number of crops to show.")] = 16,
) -> None:
    """Draw a grid of prepared crops or generated images: image | semantic map | boxes overlay."""
    from dermgan.data.show import show_prepared

    console.out.print(f"wrote {show_prepared(prepared, out, n=n)}")


@app.command("train")
def train_command(
    data: Annotated[Path | None, typer.Option(help="A folder written by `dermgan data prepare`.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory to create.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config, or a preset's name: paper, demo-cpu, fidelity-cpu, ablations/NAME."),
    ] = None,
    set_: ConfigOverrides = None,
    resume: Resume = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    curve_points: Annotated[
        int,
        typer.Option(
            help="Log KID of the test twins at this many evenly spaced steps (0 = off); "
            "give it again with --resume to continue the curve."
        ),
    ] = 0,
    curve_images: Annotated[
        int, typer.Option(help="Test crops rendered at each curve point (each costs an Inception pass).")
    ] = 100,
) -> None:
    """Train DermGAN on a prepared dataset (or resume a run). Under torchrun, one process per GPU."""
    from dermgan.evaluation.curve import FidelityCurve
    from dermgan.training.trainer import train

    if resume is not None and (data is not None or out is not None or config is not None):
        raise UserError("--resume RUN_DIR takes no --data, --out or --config (use --set to change a key)")
    callbacks = [FidelityCurve(curve_points, curve_images)] if curve_points else []
    result = train(
        data,
        out,
        config=config,
        overrides=set_ or [],
        resume=resume,
        progress=progress,
        callbacks=callbacks,
    )
    if not result.is_main:
        return
    summary = ", ".join(f"{name} {value:.4g}" for name, value in result.losses.items())
    console.out.print(f"trained to step {result.step} in {result.run_dir}: {summary}", markup=False)


@app.command("generate")
def generate_command(
    model: Annotated[Path, typer.Option(help="A run directory or its generator.safetensors.")],
    out: Annotated[Path, typer.Option(help="Folder for images/, maps/, manifest.csv, generate.json.")],
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            "--count",
            help="Total, spread evenly over conditions x skin types (--count under torchrun, whose parser "
            "claims --n).",
        ),
    ] = None,
    per_condition: Annotated[int | None, typer.Option(help="Images of each condition.")] = None,
    fill_gaps: Annotated[
        Path | None, typer.Option(help="A real manifest: bring every condition x skin type up to --target.")
    ] = None,
    target: Annotated[
        int | None, typer.Option(help="Images every cell should have, with --fill-gaps.")
    ] = None,
    conditions: Annotated[str | None, typer.Option(help="Only these conditions (comma-separated).")] = None,
    skin_types: Annotated[str | None, typer.Option(help="Only these Fitzpatrick types, e.g. 1,6.")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same images.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Maps per forward pass (does not change the images).")] = 16,
    data: Annotated[
        Path | None, typer.Option(help="Prepared folder to sample maps from (default: the model's own).")
    ] = None,
    stochastic: Annotated[
        bool, typer.Option(help="Keep dropout on, seeded per image, for pix2pix-style variety.")
    ] = False,
    samples_per_map: Annotated[
        int,
        typer.Option(help="Images from each map, each with its own seed (--n and the others count images)."),
    ] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    json_output: JsonFlag = False,
) -> None:
    """Generate synthetic images with their maps and provenance; rerun to resume. Sharded under torchrun."""
    from dermgan.generation.generate import generate, make_plan, plan_counts
    from dermgan.generation.synthesize import Synthesizer
    from dermgan.training import distributed

    place = distributed.start()
    try:
        synthesizer = Synthesizer(model, place.device)
        plan = make_plan(
            synthesizer,
            n=n,
            per_condition=per_condition,
            fill_gaps=fill_gaps,
            target=target,
            conditions=split_list(conditions) or None,
            skin_types=skin_types,
            samples_per_map=samples_per_map,
        )
        if place.is_main:
            console.out.print(console.counts_table("images to generate", plan_counts(plan)))
        summary = generate(
            model,
            out,
            plan,
            seed=seed,
            batch_size=batch_size,
            data=data,
            stochastic=stochastic,
            samples_per_map=samples_per_map,
            progress=progress,
            synthesizer=synthesizer,
        )
    finally:
        distributed.stop()
    if place.is_main:
        maps = f", {summary.samples_per_map} per map of {summary.n_maps}" if samples_per_map > 1 else ""
        console.out.print(
            f"{summary.n_images} synthetic images in {out} ({summary.n_made_now} made now{maps}); "
            f"manifest: {out / 'manifest.csv'}",
            markup=False,
        )
        if json_output:
            console.print_json_line(summary)


sweep_app = typer.Typer(no_args_is_help=True, help="A map swept over skin type or box size (Fig. 5, 6).")
app.add_typer(sweep_app, name="sweep")
figure_app = typer.Typer(no_args_is_help=True, help="Figures of a generator against its data (paper Fig. 4).")
app.add_typer(figure_app, name="figure")
ModelOption = Annotated[Path, typer.Option(help="A run directory or its generator.safetensors.")]
FigureOut = Annotated[Path, typer.Option(help="PNG file to write.")]


@sweep_app.command("tone")
def sweep_tone(
    model: ModelOption,
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help='A map PNG, a JSON file or inline JSON such as \'{"condition": "melanoma", "skin_type": 3, '
            '"center": [32, 32], "size": 20}\'; repeat for more rows.',
        ),
    ],
    out: FigureOut,
) -> None:
    """Render each map on Fitzpatrick types I to VI: one row per map, one column per type."""
    from dermgan.generation.figures import tone_sweep

    console.out.print(f"wrote {tone_sweep(model, map_, out)}", markup=False)


@sweep_app.command("size")
def sweep_size(
    model: ModelOption,
    condition: Annotated[str, typer.Option(help="A condition of the model's codebook.")],
    skin_type: Annotated[int, typer.Option(help="Fitzpatrick type 1-6.")],
    out: FigureOut,
    steps: Annotated[int, typer.Option(help="Box sizes, from 1/8 to 7/8 of the image side.")] = 6,
) -> None:
    """Render one centred box of a condition grown step by step: one row, one column per size."""
    from dermgan.generation.figures import size_sweep

    console.out.print(f"wrote {size_sweep(model, condition, skin_type, out, steps=steps)}", markup=False)


@figure_app.command("real-vs-generated")
def figure_real_vs_generated(
    model: ModelOption,
    data: Annotated[Path, typer.Option(help="A folder written by `dermgan data prepare`.")],
    out: FigureOut,
    per_condition: Annotated[int, typer.Option(help="Crops shown per condition.")] = 4,
    split: Annotated[str, typer.Option(help="Split of the crops (test where a condition has none).")] = "val",
    seed: Annotated[int, typer.Option(help="Seed for choosing the crops.")] = 0,
) -> None:
    """Per condition, images generated from held-out crops' maps over those real crops."""
    from dermgan.generation.figures import real_vs_generated

    path = real_vs_generated(model, data, out, per_condition=per_condition, split=split, seed=seed)
    console.out.print(f"wrote {path}", markup=False)


@app.command("export")
def export_command(
    model: ModelOption,
    format: Annotated[str, typer.Option(help="onnx or torchscript.")],
    out: Annotated[Path, typer.Option(help="File to write; export.json is written beside it.")],
    batch_size: Annotated[
        int, typer.Option(help="Batch to check the export at (and one more); the batch axis stays dynamic.")
    ] = 1,
) -> None:
    """Export the deterministic generator to ONNX or TorchScript, checked against PyTorch on real maps."""
    from dermgan.generation.export import export_generator

    report = export_generator(model, format, out, batch_size=batch_size)
    batches = ", ".join(map(str, report.batch_sizes_checked))
    console.out.print(
        f"wrote {out} ({report.format}, map {report.input_shape}, any batch size): max |difference| "
        f"from PyTorch {report.max_abs_diff:.1e} at batch {batches}; report in export.json",
        markup=False,
    )


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option(help="Folder for every stage's outputs and report.html.")] = Path(
        "runs/demo"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="A two-minute version (tiny models, 32 px).")
    ] = False,
    ablations: Annotated[
        bool,
        typer.Option(
            "--ablations",
            help="Also train the three Table 1 ablations, every row with 3 seeds (12x the training; "
            "--quick: 1 seed, 4x).",
        ),
    ] = False,
    size: Annotated[
        int | None,
        typer.Option(help="Crop size (default 64, for a CPU); 256 is the paper's, with its GPU config."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """The whole story on the phantom: data, training, generation, evaluation, report.html. Resumable."""
    from dermgan.demo.pipeline import run_demo

    run_demo(out, quick=quick, ablations=ablations, size=size, progress=progress)
    console.out.print(f"open {out / 'report.html'} in a browser", markup=False)


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="The HTML file to write.")],
    runs: Annotated[
        Path | None, typer.Option(help="The folder of stage outputs (a demo folder; default: OUT's folder).")
    ] = None,
) -> None:
    """Build the HTML report from existing stage outputs alone (runs nothing)."""
    from dermgan.report.html import write_report

    console.out.print(f"wrote {write_report(runs or out.parent, out)}", markup=False)


def _fail(message: str) -> None:
    console.err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    sys.exit(1)


def _traceback_and_where_to_report(kind, error, trace) -> None:
    """The interpreter's last word on an exception no boundary expected: a bug, so its traceback stays."""
    traceback.print_exception(kind, error, trace)
    if not issubclass(kind, KeyboardInterrupt):
        console.err.print(Text.assemble(("bug: ", "bold red"), BUG_REPORT), soft_wrap=True)


def _thread_fault(arguments: threading.ExceptHookArgs) -> None:
    """A background writer (TensorBoard's) that hits a full disk hands its error to the main thread,
    which reports it in one line; printing the thread's traceback too would bury that line."""
    if arguments.exc_value is not None and fault_message(arguments.exc_value) is not None:
        return
    threading.__excepthook__(arguments)


def main() -> None:
    """Entry point, and the one error boundary: a UserError or an expected fault of the machine or its
    files (full disk, read-only folder, corrupt file; see dermgan.errors) becomes one line and exit code 1.
    Anything else is a bug: its traceback is printed with a line saying where to report it."""
    sys.excepthook = _traceback_and_where_to_report
    thread_hook, threading.excepthook = threading.excepthook, _thread_fault
    try:
        typer.main.get_command(app)(prog_name="dermgan")
    except UserError as error:
        _fail(str(error))
    except FAULTS as error:
        message = fault_message(error)
        if message is None:
            raise
        _fail(message)
    finally:
        threading.excepthook = thread_hook
