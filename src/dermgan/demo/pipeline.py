"""`dermgan demo`: the whole DermGAN story on the phantom, stage by stage, ending in one HTML report.

Every stage calls the same functions as its `dermgan` command; the demo only chooses their settings
(a full CPU demo, or `quick`, the two-minute version the test suite runs) and where their outputs go.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dermgan.data.phantom.labels import DEFAULT_CONDITION_WEIGHTS
from dermgan.demo.figures import FIGURES, tone_sweep_maps
from dermgan.demo.layout import DEMO_SETTINGS_FILE, FID_GROUPS, DemoLayout
from dermgan.demo.stages import Stage, StageOutcome, run_stages
from dermgan.errors import UserError
from dermgan.evaluation.ablation import ABLATIONS
from dermgan.files import write_json
from dermgan.models.generator import size_problem
from dermgan.report.html import write_report
from dermgan.training.callbacks import StepCallback
from dermgan.training.config import load_config

DEMO_CONDITION_WEIGHTS = {**DEFAULT_CONDITION_WEIGHTS, "melanoma": 0.20}


@dataclass(frozen=True)
class DemoSettings:
    """What each stage is asked to do; the stages' fingerprints are made of these values."""

    n_photos: int = 1400
    condition_weights: dict[str, float] = field(default_factory=lambda: DEMO_CONDITION_WEIGHTS)
    """The phantom's condition shares: melanoma raised so the test split holds at least 30 melanomas
    (about 40 of 217 at 1,400 photos), while the classifiers keep it rare in their training photos."""
    image_size: int = 64
    config: str = "fidelity-cpu"
    """The preset `eval grid` ranked first on the phantom; demo-cpu is the paper's recipe at 64 px."""
    overrides: tuple[str, ...] = ()
    curve_points: int = 4
    curve_images: int = 100
    """The fidelity curve of every trained run: KID of this many test twins at this many steps."""
    diversity_maps: int = 40
    samples_per_map: int = 4
    """Per-map diversity: this many validation maps, each rendered this many times with its own seeds."""
    ablations: bool = False
    ablation_seeds: int = 3
    """With `ablations`, every Table 1 row is trained with this many seeds (the config's seed and the next
    ones), so that the table shows the interval over seeds beside the per-trial one."""
    per_condition: int = 40
    sweep_steps: int = 6
    figure_crops: int = 4
    trials: int = 10
    floor_images: int | None = 300
    """Real train crops for Table 1's floor row: each costs an Inception pass (about 0.3 s on a CPU)."""
    rare_condition: str = "melanoma"
    rare_train_images: int = 8
    """Real training photos of the rare condition the classifiers keep: the gap synthetic images fill."""
    synthetic_rare: int = 200
    """Synthetic images of the rare condition added to the augmented classifier's training data."""
    classifier_overrides: tuple[str, ...] = (
        "model.arch=efficientnet_lite0",
        "model.pretrained=true",
        "data.input=roi",
        "train.epochs=10",
        "train.patience=3",
    )
    """ImageNet EfficientNet-Lite0 on ROI-centred squares at the demo's 64 px (the generator's size):
    test top-1 0.98 on the phantom in about 3 minutes of training on 2 busy cores; whole photos at 64 px
    reach 0.85, MobileNetV2 from scratch 0.34 (README, classifier section)."""
    seed: int = 0
    estimates_s: dict[str, float] = field(default_factory=dict)

    @property
    def train_overrides(self) -> tuple[str, ...]:
        """The config's overrides, with the crop size the data was prepared at."""
        return (f"data.size={self.image_size}", *self.overrides)


FULL = DemoSettings(
    estimates_s={"data": 40, "train": 460, "table": 240, "generate": 30, "evaluate": 40, "classify": 300},
)
SMALL_NOISE = "model.noise_resolutions=[8,16]"
"""At 32 px the preset's 32 px noise level is the image itself, which takes none."""
QUICK = DemoSettings(
    n_photos=160,
    image_size=32,
    overrides=(
        SMALL_NOISE,
        "model.ngf=8",
        "model.ndf=8",
        "train.max_steps=120",
        "train.num_workers=0",
        "train.sample_every=60",
        "train.checkpoint_every=60",
    ),
    curve_points=2,
    curve_images=8,
    diversity_maps=6,
    samples_per_map=2,
    ablation_seeds=1,
    per_condition=3,
    sweep_steps=4,
    figure_crops=2,
    trials=3,
    floor_images=50,
    rare_train_images=2,
    synthetic_rare=12,
    classifier_overrides=(
        "model.arch=efficientnet_lite0",
        "model.pretrained=true",
        "data.input=roi",
        "train.epochs=2",
        "train.num_workers=0",
    ),
    estimates_s={"data": 10, "train": 25, "table": 40, "generate": 5, "evaluate": 10, "classify": 20},
)


def demo_settings(quick: bool, ablations: bool, size: int | None = None) -> DemoSettings:
    """The full or quick settings; `size` 256 or more switches to the paper's GPU config."""
    if quick and size is not None:
        raise UserError(f"--quick runs at {QUICK.image_size} px; drop --size {size} or --quick")
    base = QUICK if quick else FULL
    changes: dict = {"ablations": ablations}
    if size is not None:
        problem = size_problem(size)
        if problem:
            raise UserError(f"--size {problem} (64 on a CPU, 256 on a GPU)")
        changes["image_size"] = size
        changes["config"] = "paper" if size >= 256 else base.config
        if size == 32:  # --quick, which has it already, takes no --size
            changes["overrides"] = (*base.overrides, SMALL_NOISE)
        if size != base.image_size:
            changes["estimates_s"] = {}  # measured at the default size only
    return DemoSettings(**{**asdict(base), **changes})


def _make_data(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.data.phantom import make_phantom
    from dermgan.data.prepare import prepare_dataset
    from dermgan.data.show import show_prepared
    from dermgan.data.validate import validate_manifest, write_validation

    make_phantom(
        paths.photos,
        settings.n_photos,
        seed=settings.seed,
        condition_weights=settings.condition_weights,
        progress=progress,
    )
    manifest = paths.photos / "manifest.csv"
    report, _ = validate_manifest(manifest, progress=progress)
    write_validation(report, paths.photos, skip_bad=False)
    prepare_dataset(
        manifest,
        paths.prepared,
        size=settings.image_size,
        seed=settings.seed,
        progress=progress,
    )
    show_prepared(paths.prepared, paths.figures / "prepared.png", n=16)


def _curve(paths: DemoLayout, settings: DemoSettings) -> list[StepCallback]:
    """The fidelity-curve callback of every training run, sharing the demo's feature cache."""
    from dermgan.evaluation.curve import FidelityCurve

    if settings.curve_points < 1:
        return []
    return [FidelityCurve(settings.curve_points, settings.curve_images, cache=paths.cache)]


def _train(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.evaluation.ablation import train_row

    train_row(
        "dermgan",
        paths.prepared,
        paths.run,
        config=settings.config,
        overrides=settings.train_overrides,
        progress=progress,
        callbacks=_curve(paths, settings),
    )


def _train_ablations(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.evaluation.ablation import train_row

    callbacks = _curve(paths, settings)
    for name, seed, run in paths.ablation_trainings(_table_seeds(settings)):
        train_row(
            name,
            paths.prepared,
            run,
            config=settings.config,
            overrides=(*settings.train_overrides, f"train.seed={seed}"),
            progress=progress,
            callbacks=callbacks,
        )


def _table_seeds(settings: DemoSettings) -> list[int]:
    """The training seeds of Table 1's rows: the config's own, then the next ones with `ablations`."""
    first = load_config(settings.config, settings.train_overrides).train.seed
    return [first + index for index in range(settings.ablation_seeds if settings.ablations else 1)]


def _table(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.evaluation.ablation import run_ablation

    seeds = _table_seeds(settings)
    runs = {"dermgan": str(paths.run)}
    if settings.ablations:
        runs |= {run.name: str(run) for *_, run in paths.ablation_trainings(seeds)}  # named by variant_key
    run_ablation(
        paths.prepared,
        paths.table,
        config=settings.config,
        overrides=settings.train_overrides,
        runs=runs,
        rows=tuple(ABLATIONS) if settings.ablations else ("dermgan",),
        seeds=seeds if settings.ablations else None,
        trials=settings.trials,
        floor_images=settings.floor_images,
        cache=paths.cache,
        progress=progress,
    )


def _generate(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.data.show import show_prepared
    from dermgan.generation.figures import real_vs_generated, size_sweep, tone_sweep
    from dermgan.generation.generate import generate, make_plan
    from dermgan.generation.synthesize import Synthesizer

    synthesizer = Synthesizer(paths.run)
    plan = make_plan(synthesizer, per_condition=settings.per_condition)
    generate(paths.run, paths.synthetic, plan, seed=settings.seed, progress=progress, synthesizer=synthesizer)
    show_prepared(paths.synthetic, paths.figures / "generated.png", n=16)
    conditions = synthesizer.codebook.conditions
    maps = tone_sweep_maps(settings.image_size, conditions)
    tone_sweep(paths.run, maps, paths.figures / "tone-sweep.png")
    grown = "basal cell carcinoma" if "basal cell carcinoma" in conditions else conditions[0]
    size_sweep(paths.run, grown, 3, paths.figures / "size-sweep.png", steps=settings.sweep_steps)
    real_vs_generated(
        paths.run,
        paths.prepared,
        paths.figures / "real-vs-generated.png",
        per_condition=settings.figure_crops,
    )


def _evaluate(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    from dermgan.evaluation.diversity import evaluate_diversity
    from dermgan.evaluation.fid import evaluate
    from dermgan.evaluation.roi import evaluate_roi
    from dermgan.evaluation.tone import evaluate_tone
    from dermgan.generation.generate import generate, make_plan
    from dermgan.generation.synthesize import Synthesizer

    table = json.loads((paths.table / "ablation.json").read_text())
    for group in FID_GROUPS:
        evaluate(
            paths.prepared,
            paths.twins,
            split="test",
            by=[group],
            trials=settings.trials,
            sample_size=table["sample_size"],
            out=paths.fid(group),
            cache=paths.cache,
            progress=progress,
        )
    evaluate_tone(paths.prepared, paths.twins, out=paths.eval, split="test", progress=progress)
    evaluate_roi(paths.prepared, paths.twins, out=paths.eval, split="test", progress=progress)
    synthesizer = Synthesizer(paths.run)
    # A generator without decoder noise varies only through dropout, pix2pix's own source of randomness.
    generate(
        paths.run,
        paths.diversity_samples,
        make_plan(
            synthesizer,
            n=settings.diversity_maps * settings.samples_per_map,
            samples_per_map=settings.samples_per_map,
        ),
        seed=settings.seed,
        stochastic=not synthesizer.generator.noise_resolutions,
        samples_per_map=settings.samples_per_map,
        progress=progress,
        synthesizer=synthesizer,
    )
    evaluate_diversity(
        paths.prepared,
        paths.diversity_samples,
        out=paths.eval,
        split="test",
        cache=paths.cache,
        progress=progress,
    )


def _classify(paths: DemoLayout, settings: DemoSettings, progress: bool) -> None:
    """The paper's augmentation experiment: the rare condition kept rare in the classifiers' real training
    photos, then filled with synthetic images of it; both runs scored on the same test photos."""
    from dermgan.classification.compare import compare_classifiers
    from dermgan.classification.trainer import train_classifier
    from dermgan.generation.generate import generate, make_plan
    from dermgan.generation.synthesize import Synthesizer
    from dermgan.training.checkpoint import latest_checkpoint

    synthesizer = Synthesizer(paths.run)
    plan = make_plan(synthesizer, n=settings.synthetic_rare, conditions=[settings.rare_condition])
    extra = paths.classify / "synthetic"
    generate(paths.run, extra, plan, seed=settings.seed, progress=progress, synthesizer=synthesizer)
    manifest = paths.photos / "manifest.csv"
    overrides = (
        f"data.size={settings.image_size}",
        f"data.max_train_images={{{settings.rare_condition}: {settings.rare_train_images}}}",
        f"data.cache={paths.resized}",
        f"train.seed={settings.seed}",
        *settings.classifier_overrides,
    )
    runs = {"baseline": {}, "augmented": {"extra": extra / "manifest.csv", "generators": [paths.run]}}
    for name, inputs in runs.items():
        run = paths.classify / name
        if latest_checkpoint(run) is not None:
            train_classifier(resume=run, progress=progress)
        else:
            train_classifier(
                manifest, run, splits=paths.prepared, overrides=overrides, progress=progress, **inputs
            )
    compare_classifiers(
        paths.classify / "baseline",
        paths.classify / "augmented",
        manifest,
        out=paths.comparison,
        progress=progress,
    )


def demo_stages(out: Path, settings: DemoSettings, progress: bool = True) -> list[Stage]:
    paths = DemoLayout(out)
    estimates = settings.estimates_s
    data_settings = {
        "n_photos": settings.n_photos,
        "condition_weights": settings.condition_weights,
        "image_size": settings.image_size,
        "seed": settings.seed,
    }
    # The resolved config (its `base:` files and defaults included), which also refuses a bad one now.
    resolved = load_config(settings.config, settings.train_overrides)
    seeds = _table_seeds(settings)
    train_settings = {
        "config": resolved.model_dump(mode="json"),
        "curve": [settings.curve_points, settings.curve_images],
    }
    return [
        Stage(
            "data",
            "phantom photos, validated and prepared",
            lambda: _make_data(paths, settings, progress),
            outputs=[paths.photos, paths.prepared, paths.figures / "prepared.png"],
            settings=data_settings,
            estimate_s=estimates.get("data", 0),
        ),
        Stage(
            "train",
            "DermGAN training",
            lambda: _train(paths, settings, progress),
            outputs=[paths.run],
            settings=train_settings,
            needs=["data"],
            estimate_s=estimates.get("train", 0),
        ),
        *(
            [
                Stage(
                    "ablations",
                    "the three Table 1 ablations, trained"
                    + (f", every row with {len(seeds)} seeds" if len(seeds) > 1 else ""),
                    lambda: _train_ablations(paths, settings, progress),
                    outputs=[paths.ablation_runs],
                    settings={**train_settings, "seeds": seeds},
                    needs=["data"],
                    estimate_s=(len(ABLATIONS) * len(seeds) - 1) * estimates.get("train", 0),
                )
            ]
            if settings.ablations
            else []
        ),
        Stage(
            "table",
            "Table 1: FID against the real floor"
            + (", with the three ablations" if settings.ablations else ""),
            lambda: _table(paths, settings, progress),
            outputs=[paths.table],
            settings={
                "ablations": settings.ablations,
                "trials": settings.trials,
                "floor_images": settings.floor_images,
                **({"seeds": seeds} if settings.ablations else {}),
            },
            needs=["train", "ablations"] if settings.ablations else ["train"],
            estimate_s=estimates.get("table", 0),
        ),
        Stage(
            "generate",
            "synthetic images, tone and size sweeps, real-vs-generated figure",
            lambda: _generate(paths, settings, progress),
            outputs=[paths.synthetic, *(paths.figures / name for name in FIGURES)],
            settings={
                "per_condition": settings.per_condition,
                "sweep_steps": settings.sweep_steps,
                "figure_crops": settings.figure_crops,
                "seed": settings.seed,
            },
            needs=["train"],
            estimate_s=estimates.get("generate", 0),
        ),
        Stage(
            "evaluate",
            "FID/KID per condition and skin type, tone fidelity, lesion contrast and shape, diversity",
            lambda: _evaluate(paths, settings, progress),
            outputs=[paths.eval],
            settings={
                "trials": settings.trials,
                "groups": list(FID_GROUPS),
                "diversity_maps": settings.diversity_maps,
                "samples_per_map": settings.samples_per_map,
            },
            needs=["table"],
            estimate_s=estimates.get("evaluate", 0),
        ),
        Stage(
            "classify",
            f"classifiers with and without synthetic {settings.rare_condition}, compared",
            lambda: _classify(paths, settings, progress),
            outputs=[paths.classify],
            settings={
                "rare_condition": settings.rare_condition,
                "rare_train_images": settings.rare_train_images,
                "synthetic_rare": settings.synthetic_rare,
                "overrides": list(settings.classifier_overrides),
                "seed": settings.seed,
            },
            needs=["train"],
            estimate_s=estimates.get("classify", 0),
        ),
    ]


def run_demo(
    out: str | os.PathLike[str],
    *,
    quick: bool = False,
    ablations: bool = False,
    size: int | None = None,
    progress: bool = True,
) -> list[StageOutcome]:
    """Runs (or resumes) every stage under OUT and writes OUT/report.html."""
    settings = demo_settings(quick, ablations, size)
    out = Path(out)
    stages = demo_stages(out, settings, progress)
    write_json(out / DEMO_SETTINGS_FILE, {**asdict(settings), "quick": quick})
    outcomes = run_stages(out, stages)
    write_report(out, out / "report.html")
    return outcomes
