"""`dermgan eval grid`: the paper's grid search of loss weights, as a tool.

Each variant (a few `--set` overrides on top of one base config) is trained and measured by the same
loop as Table 1 (ablation.measure_variants), on the VALIDATION split: the variants are ranked by KID, which
is unbiased on the few hundred images a validation split holds, where FID is not. Only the chosen variant
then renders and is measured on the TEST split, once, so the test images play no part in the choice and
its test numbers are not flattered by it. Runs, renders and features are kept, so a rerun resumes.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel
from rich.table import Table

from dermgan.errors import UserError
from dermgan.evaluation.ablation import SUBSET_SHARE, Measured, Variant, measure_variants
from dermgan.evaluation.features import FeatureNetwork
from dermgan.evaluation.fid import MIN_IMAGES_FOR_KID
from dermgan.evaluation.image_sets import ImageSet, load_image_set
from dermgan.files import write_json
from dermgan.training.config import load_config

RANKED_BY = "KID on the validation split (lower is better)"
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=,+-]*")
"""A variant's name is its folder under runs/, val/ and test/."""


class GridVariant(BaseModel):
    name: str
    overrides: list[str]
    """On top of the base config and the base overrides."""
    run: str
    rank: int
    """1 = the lowest validation KID."""
    val_kid: float
    val_kid_std: float | None
    val_fid: float | None
    """None below MIN_IMAGES_FOR_FID validation crops."""
    val_fid_ci95: float | None


class GridTest(BaseModel):
    """The chosen variant on the test split, measured once after the choice."""

    name: str
    kid: float | None
    kid_std: float | None
    fid: float | None
    fid_ci95: float | None
    band_accuracy: float | None


class GridResult(BaseModel):
    data: str
    config: str | None
    overrides: list[str]
    ranked_by: str = RANKED_BY
    n_val: int
    n_test: int
    trials: int
    variants: list[GridVariant]
    """Best first."""
    chosen: str
    test: GridTest


def grid_product(assignments: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`--grid section.key=A,B` options as their cartesian product: variant name -> overrides."""
    axes: dict[str, list[str]] = {}
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        values = [value.strip() for value in text.split(",")]
        if not separator or not key.strip() or not all(values):
            raise UserError(
                f"--grid {assignment!r} must look like section.key=A,B,..., e.g. loss.lambda_fm=0,10"
            )
        if key.strip() in axes:
            raise UserError(f"--grid names {key.strip()} twice; give all its values in one --grid")
        if len(set(values)) != len(values):
            raise UserError(f"--grid {assignment!r} lists a value twice")
        axes[key.strip()] = values
    variants: dict[str, tuple[str, ...]] = {}
    settings = ([f"{key}={value}" for value in values] for key, values in axes.items())
    for combination in itertools.product(*settings):
        name = _folder_name(",".join(combination))
        if name in variants:
            raise UserError(f"--grid: {combination} and {variants[name]} share the folder name {name}")
        variants[name] = combination
    return variants


def _folder_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=,+-]", "-", text)


def read_variants(path: str | os.PathLike[str]) -> dict[str, tuple[str, ...]]:
    """A YAML file of variants, one `name: {section.key: value, ...}` each (`no-fm: {loss.lambda_fm: 0}`):
    for variants that are not a product, or values with commas. `base: {}` is the base config itself."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--variants {path} does not exist") from None
    except yaml.YAMLError as error:
        raise UserError(f"--variants {path} is not valid YAML: {error}") from None
    example = "e.g. `no-fm: {loss.lambda_fm: 0}`"
    if not isinstance(document, dict):
        raise UserError(f"--variants {path} must map each variant's name to its settings, {example}")
    variants = {}
    for name, settings in document.items():
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            raise UserError(f"--variants {path}: variant {name!r} must map section.key to a value, {example}")
        variants[str(name)] = tuple(f"{key}={json.dumps(value)}" for key, value in settings.items())
    return variants


def grid_variants(
    assignments: Sequence[str], variants_file: str | os.PathLike[str] | None
) -> dict[str, tuple[str, ...]]:
    """The variants of `eval grid`: from `--grid` options or from a `--variants` file, never both."""
    if assignments and variants_file is not None:
        raise UserError("give the variants with --grid or with --variants FILE.yaml, not both")
    if not assignments and variants_file is None:
        raise UserError("give the variants: --grid section.key=A,B (repeatable) or --variants FILE.yaml")
    return grid_product(assignments) if assignments else read_variants(variants_file)


def _check_variants(
    variants: Mapping[str, Sequence[str]], config: str | os.PathLike[str] | None, overrides: Sequence[str]
) -> None:
    """Every variant names a valid folder and makes a valid config, before anything is trained."""
    if len(variants) < 2:
        raise UserError(f"a grid needs two variants or more, got {len(variants)}: {', '.join(variants)}")
    for name, changes in variants.items():
        if not VARIANT_NAME.fullmatch(name):
            raise UserError(
                f"variant name {name!r} must be a folder name: letters, digits and . _ = , + - only"
            )
        try:
            load_config(config, [*overrides, *changes])
        except UserError as error:
            raise UserError(f"variant {name}: {error}") from None


def run_grid(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    variants: Mapping[str, Sequence[str]],
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    trials: int = 10,
    network: FeatureNetwork | None = None,
    cache: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> GridResult:
    """Trains each variant under OUT/runs, ranks them by validation KID, measures the best once on the test
    split; writes OUT/grid.json."""
    data, out = Path(data), Path(out)
    _check_variants(variants, config, overrides)
    val, test = load_image_set(data, split="val"), load_image_set(data, split="test")
    for split, images in (("val", val), ("test", test)):
        if len(images) < MIN_IMAGES_FOR_KID:
            raise UserError(
                f"{data} has {len(images)} {split} crops; KID needs {MIN_IMAGES_FOR_KID}: prepare it with "
                "a larger share for that split (`data prepare --split`)"
            )
    shared = dict(data=data, runs=out / "runs", config=config, progress=progress)
    metrics = dict(trials=trials, network=network, cache=cache, workers=workers)
    candidates = [Variant(name, overrides=(*overrides, *changes)) for name, changes in variants.items()]
    measured = measure_variants(
        candidates, reference=val, split="val", out=out / "val", **shared, **metrics, sample_size=_sample(val)
    )
    ranked = sorted(measured, key=lambda one: (one.metrics.kid, one.variant.key))
    best = ranked[0]
    chosen = Variant(best.variant.key, overrides=best.variant.overrides, run=best.run)
    [on_test] = measure_variants(
        [chosen],
        reference=test,
        split="test",
        out=out / "test",
        **shared,
        **metrics,
        sample_size=_sample(test),
    )
    result = GridResult(
        data=str(data),
        config=str(config) if config is not None else None,
        overrides=list(overrides),
        n_val=len(val),
        n_test=len(test),
        trials=trials,
        variants=[_ranked(one, rank, variants) for rank, one in enumerate(ranked, start=1)],
        chosen=best.variant.key,
        test=GridTest(
            name=best.variant.key,
            kid=on_test.metrics.kid,
            kid_std=on_test.metrics.kid_std,
            fid=on_test.metrics.fid,
            fid_ci95=on_test.metrics.fid_ci95,
            band_accuracy=on_test.tone.band_accuracy,
        ),
    )
    write_json(out / "grid.json", result.model_dump(mode="json"))
    return result


def _sample(images: ImageSet) -> int:
    """FID's subset size, as Table 1's: 80% of the split, so the trials differ."""
    return max(2, int(SUBSET_SHARE * len(images)))


def _ranked(one: Measured, rank: int, variants: Mapping[str, Sequence[str]]) -> GridVariant:
    return GridVariant(
        name=one.variant.key,
        overrides=list(variants[one.variant.key]),
        run=str(one.run),
        rank=rank,
        val_kid=one.metrics.kid,
        val_kid_std=one.metrics.kid_std,
        val_fid=one.metrics.fid,
        val_fid_ci95=one.metrics.fid_ci95,
    )


def grid_table(result: GridResult) -> Table:
    """The variants best first, as ranked on the validation split: the first is the chosen one. FID only
    where the split has enough crops for it."""
    with_fid = any(variant.val_fid is not None for variant in result.variants)
    table = Table(title=f"grid search: ranked by {result.ranked_by}", title_justify="left")
    for name in ("rank", "variant", "val KID ± std", *(["val FID ± 95%"] if with_fid else [])):
        table.add_column(name, justify="left" if name == "variant" else "right", overflow="fold")
    for variant in result.variants:
        fid = [_estimate(variant.val_fid, variant.val_fid_ci95, ".1f")] if with_fid else []
        table.add_row(
            str(variant.rank), variant.name, _estimate(variant.val_kid, variant.val_kid_std, ".4f"), *fid
        )
    return table


def chosen_summary(result: GridResult) -> str:
    """The chosen variant's numbers on the test split, measured once after the choice."""
    test = result.test
    return (
        f"chosen: {result.chosen}; on the {result.n_test} test crops: KID "
        f"{_estimate(test.kid, test.kid_std, '.4f')}, FID {_estimate(test.fid, test.fid_ci95, '.1f')}"
    )


def _estimate(value: float | None, spread: float | None, form: str) -> str:
    if value is None:
        return "-"
    return format(value, form) + ("" if spread is None else f" ± {spread:{form}}")
