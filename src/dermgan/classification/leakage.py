"""The leakage guard: nothing a test case shows may reach a classifier's training, even through a GAN.

Refused, naming the rows: a synthetic image placed in a validation or test split; a synthetic training
image whose map was sampled from a test case's photo (`map_source_case`, `map_source_image`); a test
case that the generator of a synthetic training image was trained on; a held-back case (split
`reserve`) that such a generator was trained on, since a data-value study compares its images with
those very photos and a generator that saw them would carry them into the synthetic side. A
generator's training cases are the train split of the prepared folder its `generator.json` names, so
the run directory that made the images must be given (`--generator`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dermgan.classification.examples import Example
from dermgan.classification.selection import TrainingSet
from dermgan.data.prepare import read_prepared
from dermgan.data.splits import read_splits, splits_path
from dermgan.errors import UserError
from dermgan.training.release import WEIGHTS, generator_sha256, read_info

SHOWN = 10


class LeakageError(UserError):
    """Training would see test data; the message lists every offending row by rule."""


@dataclass(frozen=True)
class GeneratorData:
    """What a generator was trained on: its prepared folder and the cases of that folder's train split."""

    run: Path
    sha256: str
    data_dir: Path
    train_cases: frozenset[str]


def read_generator_data(path: str | os.PathLike[str]) -> GeneratorData:
    """A run directory (or its generator.safetensors) -> its fingerprint and training cases."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    try:
        info = read_info(folder)
        sha256 = generator_sha256(folder / WEIGHTS)
    except FileNotFoundError as error:
        raise UserError(f"--generator {path}: {error.filename} does not exist; give a finished run") from None
    except UserError as error:
        raise UserError(f"--generator {path}: {error}") from None
    data_dir = Path(info.config.data.path)
    if not data_dir.is_dir():
        raise UserError(
            f"--generator {path} was trained on {data_dir}, which is gone: the guard cannot check which "
            "cases it saw. Restore that prepared folder."
        )
    case_split = read_splits(splits_path(data_dir))
    rows = read_prepared(data_dir).rows
    cases = {row["case_id"] for row in rows if case_split.get(row["case_id"], row["split"]) == "train"}
    return GeneratorData(folder, sha256, data_dir.resolve(), frozenset(cases))


def _listing(title: str, examples: Sequence[Example], why, fix: str = "") -> str:
    """The rule, its rows (the first SHOWN of them) and, when given, how to fix them."""
    lines = [f"{title}: {len(examples)} row(s)"]
    lines += [f"  {example.where()}: {why(example)}" for example in examples[:SHOWN]]
    if len(examples) > SHOWN:
        lines.append(f"  ... and {len(examples) - SHOWN} more")
    if fix:
        lines.append(f"  fix: {fix}")
    return "\n".join(lines)


def _generator_of(example: Example, generators: dict[str, GeneratorData]) -> GeneratorData | None:
    return generators.get(example.extra.get("generator_sha256", ""))


def _map_from_test(
    example: Example, generator: GeneratorData, test_cases: set[str], test_photos: set[Path]
) -> bool:
    """By the map's case, or by its photo (a path relative to the generator's prepared folder)."""
    if example.extra.get("map_source_case", "") in test_cases:
        return True
    source = example.extra.get("map_source_image", "")
    if not source:
        return False
    candidates = {(generator.data_dir / source).resolve(), (example.manifest.parent / source).resolve()}
    return bool(candidates & test_photos)


def check_leakage(data: TrainingSet, generators: Sequence[GeneratorData]) -> None:
    """LeakageError listing every violation of every rule; UserError when a generator is unknown."""
    by_sha = {g.sha256: g for g in generators}
    synthetic = [example for example in data.train if example.synthetic]
    unknown = [example for example in synthetic if _generator_of(example, by_sha) is None]
    if unknown:
        shas = sorted({example.extra.get("generator_sha256", "") or "(none recorded)" for example in unknown})
        raise UserError(
            f"{len(unknown)} synthetic training row(s) (first: {unknown[0].where()}) come from generator(s) "
            f"{', '.join(s[:12] for s in shas)} not given with --generator: give the run directory that made "
            "them, so the guard can check which cases it was trained on"
        )
    problems = []
    if data.held_out_synthetic:
        problems.append(
            _listing(
                "synthetic images in a validation or test split",
                data.held_out_synthetic,
                lambda e: f"split {e.split!r}; synthetic images may only train",
                "set their split to train (or leave it empty) in the synthetic manifest",
            )
        )
    test_cases, test_photos = {e.case_id for e in data.test}, {e.path for e in data.test}
    from_test = [
        e
        for e in synthetic
        if _map_from_test(e, by_sha[e.extra["generator_sha256"]], test_cases, test_photos)
    ]
    if from_test:
        problems.append(
            _listing(
                "synthetic training images whose map came from a test case",
                from_test,
                lambda e: f"map from {e.extra.get('map_source_case') or e.extra.get('map_source_image')}",
                "generate from maps of train or validation cases (`dermgan generate` samples validation "
                "maps of the generator's prepared folder): train the classifier with that folder's "
                "splits.csv (--splits)",
            )
        )
    used = {by_sha[e.extra["generator_sha256"]] for e in synthetic}
    runs = ", ".join(sorted(str(g.run) for g in used))
    for what, cases, fix in (
        (
            "test cases",
            data.test,
            "use the generator's own splits.csv (--splits), or a generator trained without these cases",
        ),
        (
            "held-back (reserve) cases",
            data.reserve,
            "train the generator on a folder prepared with the same --hold-back (its splits.csv puts "
            "these cases in the reserve), and give that splits.csv (--splits)",
        ),
    ):
        seen = [e for e in cases if any(e.case_id in g.train_cases for g in used)]
        if seen:
            problems.append(
                _listing(
                    f"{what} the generator ({runs}) was trained on",
                    seen,
                    lambda e: f"case {e.case_id!r} is in the generator's train split",
                    fix,
                )
            )
    if problems:
        raise LeakageError("test data would leak into training:\n" + "\n".join(problems))


def refuse_synthetic(examples: Sequence[Example], split: str) -> None:
    """Evaluation is on real photos only: a synthetic row in the evaluated split is an error."""
    synthetic = [example for example in examples if example.synthetic]
    if synthetic:
        raise LeakageError(
            _listing(
                f"synthetic images in the {split!r} split",
                synthetic,
                lambda e: "evaluation uses real photos only",
            )
        )
