"""`dermgan generate`: synthetic images in bulk, each with its map and provenance, resumable and shardable.

Image i of a run depends only on (generator, plan, seed, i): it is drawn from map j of the plan (j = i
with one sample per map), that map is drawn with a generator seeded by (seed, j), the image's own seed is
(seed, i), and the generator runs in evaluation mode, so neither the batch size nor the other images of a
batch change it. A rerun skips the images already written; under torchrun, rank r makes the images i with
i mod world_size = r and rank 0 writes the manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel
from tqdm import tqdm

from dermgan.data.dataset import PreparedPairs
from dermgan.data.manifest import format_boxes, read_manifest, write_manifest
from dermgan.data.splits import stable_seed
from dermgan.errors import UserError
from dermgan.files import save_png, write_json, write_text
from dermgan.generation.maps import MapSampler, MapSpec, crop_spec
from dermgan.generation.plan import (
    Plan,
    check_samples_per_map,
    even_plan,
    gap_plan,
    in_images,
    map_requests,
    parse_skin_types,
    per_condition_plan,
    real_counts,
)
from dermgan.generation.synthesize import Synthesizer
from dermgan.training import distributed

FINGERPRINT = ".generate-fingerprint"
SYNTHETIC_DATASET = "dermgan-synthetic"


class PlannedCell(BaseModel):
    condition: str
    skin_type: str
    count: int


class GenerateSummary(BaseModel):
    out: str
    n_images: int
    n_made_now: int
    plan: list[PlannedCell]
    generator_sha256: str
    seed: int
    stochastic: bool
    samples_per_map: int = 1
    n_maps: int
    """Maps drawn: the plan's images in groups of samples_per_map (fewer in a cell's last group)."""


def make_plan(
    synthesizer: Synthesizer,
    *,
    n: int | None = None,
    per_condition: int | None = None,
    fill_gaps: str | os.PathLike[str] | None = None,
    target: int | None = None,
    conditions: Sequence[str] | None = None,
    skin_types: str | None = None,
    samples_per_map: int = 1,
) -> Plan:
    """The plan of exactly one of: --n, --per-condition, --fill-gaps with --target.

    With `samples_per_map` K, --n and --per-condition are spread in whole maps of K images (rounded up),
    so every map has its K samples: spread image by image, 12 images over 48 cells would be 12 maps of
    one sample. Gaps to fill stay counts of images."""
    chosen = [
        name
        for name, value in (("--n", n), ("--per-condition", per_condition), ("--fill-gaps", fill_gaps))
        if value is not None
    ]
    if len(chosen) != 1:
        raise UserError(
            "give exactly one of --n N, --per-condition N or --fill-gaps MANIFEST --target N"
            + (f" (got {' and '.join(chosen)})" if chosen else "")
        )
    codebook = synthesizer.codebook
    conditions = list(conditions or codebook.conditions)
    for condition in conditions:
        codebook.condition_index(condition)
    types = parse_skin_types(skin_types)
    check_samples_per_map(samples_per_map)
    if n is not None:
        if n < 1:
            raise UserError(f"--n must be at least 1, not {n}")
        return in_images(even_plan(-(-n // samples_per_map), conditions, types), samples_per_map)
    if per_condition is not None:
        if per_condition < 1:
            raise UserError(f"--per-condition must be at least 1, not {per_condition}")
        maps = per_condition_plan(-(-per_condition // samples_per_map), conditions, types)
        return in_images(maps, samples_per_map)
    if target is None:
        raise UserError("--fill-gaps needs --target N: the number of images every cell should reach")
    counts = real_counts(read_manifest(fill_gaps).rows)
    return gap_plan(counts, target, conditions, types)


def _row(
    index: int, map_index: int, spec: MapSpec, synthesizer: Synthesizer, seed: int, stochastic: bool
) -> dict[str, str]:
    licences = "; ".join(synthesizer.info.licences)
    return {
        "image": f"images/{index:06d}.png",
        "condition": spec.condition,
        "skin_type": spec.skin_type,
        "boxes": format_boxes(spec.boxes),
        "case_id": f"synthetic-{synthesizer.sha256[:12]}-{index:06d}",
        "split": "train",
        "source": "synthetic",
        "dataset": SYNTHETIC_DATASET,
        "license": licences,
        "generator_sha256": synthesizer.sha256,
        "seed": str(seed),
        "index": str(index),
        "stochastic": str(stochastic).lower(),
        "map_id": f"map-{synthesizer.sha256[:12]}-{seed}-{map_index:06d}",
        "map_path": f"maps/{map_index:06d}.png",
        "map_source_image": spec.source_image,
        "map_source_case": spec.source_case,
    }


def _check_fingerprint(out: Path, fingerprint: dict) -> None:
    """A folder holds the images of one set of settings: refuse to mix others in."""
    path = out / FINGERPRINT
    if path.exists() and json.loads(path.read_text(encoding="utf-8")) != fingerprint:
        raise UserError(
            f"{out} holds images made with other settings (model, plan, seed or map source); "
            f"pick a new --out, or rerun with the same settings to resume"
        )


def synthesize_specs(
    specs: list[MapSpec],
    out: Path,
    synthesizer: Synthesizer,
    fingerprint: dict,
    *,
    seed: int = 0,
    batch_size: int = 16,
    stochastic: bool = False,
    progress: bool = True,
    map_indices: Sequence[int] | None = None,
) -> int:
    """Writes image i of `specs` to OUT/images and its map to OUT/maps/<map_indices[i]> (default i: one
    image per map), skipping those already there, then OUT/manifest.csv; returns how many images were made
    now (over all ranks)."""
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {batch_size}")
    map_indices = list(range(len(specs))) if map_indices is None else list(map_indices)
    place = distributed.start()
    if place.is_main:
        _check_fingerprint(out, fingerprint)
        write_text(out / FINGERPRINT, json.dumps(fingerprint))
    distributed.barrier()
    mine = [
        i
        for i in range(place.rank, len(specs), place.world_size)
        if not (out / f"images/{i:06d}.png").exists()
    ]
    with tqdm(
        total=len(mine), desc="generating", unit="image", disable=not (progress and place.is_main)
    ) as bar:
        for start in range(0, len(mine), batch_size):
            batch = mine[start : start + batch_size]
            seeds = [stable_seed(seed, "image", i) % 2**63 for i in batch]
            images = synthesizer.render([specs[i] for i in batch], seeds, stochastic=stochastic)
            for index, image in zip(batch, images, strict=True):
                map_path = out / f"maps/{map_indices[index]:06d}.png"
                if not map_path.exists():
                    save_png(Image.fromarray(specs[index].draw(synthesizer.codebook)), map_path)
                save_png(Image.fromarray(image), out / f"images/{index:06d}.png")
            bar.update(len(batch))
    distributed.barrier()
    if place.is_main:
        rows = [
            _row(index, map_index, spec, synthesizer, seed, stochastic)
            for index, (spec, map_index) in enumerate(zip(specs, map_indices, strict=True))
        ]
        write_manifest(out / "manifest.csv", rows)
    return distributed.sum_over_ranks(len(mine), place)


def generate(
    model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    plan: Plan,
    *,
    seed: int = 0,
    batch_size: int = 16,
    data: str | os.PathLike[str] | None = None,
    stochastic: bool = False,
    samples_per_map: int = 1,
    progress: bool = True,
    synthesizer: Synthesizer | None = None,
) -> GenerateSummary:
    """Generates every request of `plan` into OUT/images, OUT/maps, OUT/manifest.csv, OUT/generate.json.

    Maps are sampled from the validation split of `data` (default: the prepared data the model was
    trained on); each map yields `samples_per_map` images (the plan counts images), each with its own
    seed, grouped in the manifest by `map_id`.
    """
    place = distributed.start()
    synthesizer = synthesizer or Synthesizer(model, place.device)
    data = Path(data or synthesizer.info.config.data.path)
    if not data.is_dir():
        raise UserError(f"{data} is not a prepared folder to sample maps from; give one with --data")
    sampler = MapSampler(data, synthesizer.size)
    out = Path(out)
    maps = map_requests(plan, samples_per_map)
    map_specs = [
        sampler.sample(np.random.default_rng(stable_seed(seed, "map", index)), condition, skin_type)
        for index, ((condition, skin_type), _) in enumerate(maps)
    ]
    map_indices = [index for index, (_, samples) in enumerate(maps) for _ in range(samples)]
    specs = [map_specs[index] for index in map_indices]
    fingerprint = {
        "generator_sha256": synthesizer.sha256,
        "plan": [[c, t, k] for (c, t), k in plan.items()],
        "seed": seed,
        "stochastic": stochastic,
        "data": str(data.resolve()),
    }
    if samples_per_map != 1:
        # Only then: folders made before samples per map existed keep resuming.
        fingerprint["samples_per_map"] = samples_per_map
    made = synthesize_specs(
        specs,
        out,
        synthesizer,
        fingerprint,
        seed=seed,
        batch_size=batch_size,
        stochastic=stochastic,
        progress=progress,
        map_indices=map_indices,
    )
    summary = GenerateSummary(
        out=str(out),
        n_images=len(specs),
        n_made_now=made,
        plan=[PlannedCell(condition=c, skin_type=t, count=k) for (c, t), k in plan.items() if k],
        generator_sha256=synthesizer.sha256,
        seed=seed,
        stochastic=stochastic,
        samples_per_map=samples_per_map,
        n_maps=len(maps),
    )
    if place.is_main:
        write_json(out / "generate.json", summary.model_dump(mode="json"))
    return summary


def render_crops(
    model: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    split: str = "test",
    batch_size: int = 16,
    progress: bool = True,
) -> int:
    """The generator's image for each crop of one split, from the crop's own map (no shift): a synthetic
    twin of a held-out set, paired image by image with the real one. Returns the number of images."""
    place = distributed.start()
    synthesizer = Synthesizer(model, place.device)
    pairs = PreparedPairs(data, split)
    specs = [crop_spec(pairs.root, row, synthesizer.size) for row in pairs.rows]
    fingerprint = {"generator_sha256": synthesizer.sha256, "crops_of": str(Path(data).resolve())}
    fingerprint["split"] = split
    synthesize_specs(specs, Path(out), synthesizer, fingerprint, batch_size=batch_size, progress=progress)
    return len(specs)


def plan_counts(plan: Plan) -> dict[str, dict[str, int]]:
    """condition -> skin type -> count, for printing the plan as a table."""
    table: dict[str, dict[str, int]] = {}
    for (condition, skin_type), count in plan.items():
        table.setdefault(condition, {})[skin_type] = count
    return table
