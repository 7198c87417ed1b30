"""`data prepare`: a manifest of photos -> aligned (image, semantic map, ROI mask) crops, split by case.

Every photo is cropped in a worker process with its own seeded generator (seed, image path), so the
same seed gives the same crops whatever the number of workers. A photo's crops are written first and a
small record last, so an interrupted run resumes at the photos that have no record yet.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel

from dermgan.data.boxes import boxes_mask, crop_boxes
from dermgan.data.crop import CropSettings, plan_windows
from dermgan.data.images import ImageError, load_rgb
from dermgan.data.manifest import ManifestTable, Record, format_boxes, read_manifest, write_manifest
from dermgan.data.semantic_map import Codebook
from dermgan.data.skin import skin_mask, to_lab
from dermgan.data.splits import assign_splits, move_to_reserve, stable_seed, write_splits
from dermgan.data.validate import Problem, boxes_outside, load_records
from dermgan.errors import UserError
from dermgan.files import save_png, write_json, write_text
from dermgan.parallel import parallel_map

SKIN_TEST_SIDE = 512
FINGERPRINT_FILE = ".prepare-fingerprint"


class PrepareSummary(BaseModel):
    out: str
    size: int
    n_source_images: int
    n_cropped_images: int
    n_crops: int
    n_without_boxes: int
    n_refused_windows: int
    n_skipped_rows: int
    problems: list[Problem]
    conditions: list[str]
    crops_per_split: dict[str, int]
    counts: dict[str, dict[str, int]]
    warnings: list[str] = []


@dataclass(frozen=True)
class _PhotoTask:
    record: Record
    path: Path
    source_image: str
    out: Path
    split: str
    seed: int
    settings: CropSettings
    codebook: Codebook
    fingerprint: str


def read_prepared(prepared_dir: str | os.PathLike[str]) -> ManifestTable:
    """The manifest of a `data prepare` folder; UserError if the folder is something else."""
    table = read_manifest(Path(prepared_dir) / "manifest.csv")
    missing = {"map", "mask"} - set(table.columns)
    if missing:
        raise UserError(
            f"{prepared_dir} is not a folder written by `dermgan data prepare` "
            f"(its manifest.csv has no {' or '.join(sorted(missing))} column)"
        )
    return table


def _crop_stem(image: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(image).stem).strip("-")[:40] or "image"
    return f"{name}-{hashlib.sha1(image.encode()).hexdigest()[:10]}"


def _skin_of(image: Image.Image) -> tuple[np.ndarray, float]:
    """The skin mask of a downscaled copy (the test needs no detail) and that copy's scale."""
    scale = min(1.0, SKIN_TEST_SIDE / max(image.size))
    small = image if scale == 1.0 else image.resize((round(image.width * scale), round(image.height * scale)))
    return skin_mask(to_lab(np.asarray(small))), scale


def _inside(window: tuple[float, ...], width: int, height: int) -> tuple[float, ...]:
    """Fits a window planned on the rounded small copy back inside the full photo (rounding drift)."""
    left, top, right, _ = window
    side = min(right - left, width, height)
    left = min(max(0.0, left), width - side)
    top = min(max(0.0, top), height - side)
    return left, top, left + side, top + side


def _write_crop(
    task: _PhotoTask, image: Image.Image, window, index: int, corners: np.ndarray
) -> dict[str, str]:
    record, size, out = task.record, task.settings.size, task.out
    boxes = crop_boxes(record.boxes, window, size, corners=corners)
    semantic = task.codebook.encode(record.skin_type, record.condition, boxes_mask(boxes, size, size))
    stem = f"{_crop_stem(record.image)}-{index}"
    crop = image.resize((size, size), Image.Resampling.LANCZOS, box=window)
    save_png(crop, out / "images" / f"{stem}.png")
    save_png(Image.fromarray(semantic), out / "maps" / f"{stem}.png")
    save_png(
        Image.fromarray(semantic[..., 1:].any(axis=-1).astype(np.uint8) * 255), out / "masks" / f"{stem}.png"
    )
    return {
        **record.as_row(),
        "image": f"images/{stem}.png",
        "boxes": format_boxes(boxes),
        "split": task.split,
        "map": f"maps/{stem}.png",
        "mask": f"masks/{stem}.png",
        "source_image": task.source_image,
        "crop_window": format_boxes([window]),
    }


def crop_photo(task: _PhotoTask) -> tuple[list[dict[str, str]], int] | Problem:
    """Crops one photo (or returns its saved crops); a Problem when the photo cannot be used."""
    marker = task.out / "records" / f"{_crop_stem(task.record.image)}.json"
    if marker.exists():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved["fingerprint"] == task.fingerprint:
            return saved["rows"], saved["refused"]
    record = task.record
    try:
        image = load_rgb(task.path)
    except ImageError as error:
        return Problem(row=record.row, column="image", reason=str(error), image=record.image)
    outside = boxes_outside(record, *image.size)
    if outside:
        return outside[0]
    skin, scale = _skin_of(image)
    rng = np.random.default_rng(stable_seed(task.seed, record.image))
    scaled_boxes = [tuple(v * scale for v in box) for box in record.boxes]
    windows, refused = plan_windows(skin, scaled_boxes, task.settings, rng)
    corners = np.asarray(record.boxes, dtype=np.float64).reshape(-1, 4)
    rows = [
        _write_crop(task, image, _inside(tuple(v / scale for v in window), *image.size), index, corners)
        for index, window in enumerate(windows)
    ]
    write_text(marker, json.dumps({"fingerprint": task.fingerprint, "rows": rows, "refused": refused}))
    return rows, refused


def _select_conditions(records: list[Record], conditions: Sequence[str] | None) -> list[Record]:
    if not conditions:
        return records
    present = {record.condition for record in records}
    absent = [c for c in conditions if c not in present]
    if absent:
        raise UserError(
            f"--conditions names {', '.join(map(repr, absent))}, which no usable row has; "
            f"the manifest's conditions are: {', '.join(sorted(present))}"
        )
    wanted = set(conditions)
    return [record for record in records if record.condition in wanted]


def _empty_conditions(
    codebook: Codebook,
    selected: Sequence[Record],
    rows: Sequence[dict[str, str]],
    problems: Sequence[Problem],
    *,
    allow: bool,
) -> list[str]:
    """Warnings for conditions of the codebook left without a crop (every photo bad, boxless or refused
    as not skin); UserError unless `allow`, since a generator would be asked for what it never saw."""
    cropped = {row["condition"] for row in rows}
    empty = [condition for condition in codebook.conditions if condition not in cropped]
    if not empty:
        return []
    condition_of_row = {record.row: record.condition for record in selected}
    described = []
    for condition in empty:
        skipped = sorted({p.row for p in problems if condition_of_row.get(p.row) == condition})
        photos = sum(record.condition == condition for record in selected)
        rows_named = f", skipped rows {', '.join(map(str, skipped[:10]))}" if skipped else ""
        described.append(f"{condition!r} ({photos} photo(s){rows_named})")
    message = (
        f"condition(s) {'; '.join(described)} got no crop: every photo of them was skipped, had no box "
        "or too little skin"
    )
    if not allow:
        raise UserError(
            f"{message}. Fix those rows, leave the condition out with --conditions, or pass "
            "--allow-empty-conditions to keep it in the codebook anyway"
        )
    return [f"{message}; kept in the codebook (--allow-empty-conditions)"]


def _claim_output(out: Path, fingerprint: str) -> None:
    """Refuses to mix crops made with other settings into an existing output folder."""
    marker = out / FINGERPRINT_FILE
    if marker.exists() and marker.read_text(encoding="utf-8").strip() != fingerprint:
        raise UserError(
            f"{out} holds a dataset prepared from another manifest or with other settings; "
            "give a new --out, or delete that folder to start over"
        )
    write_text(marker, fingerprint + "\n")


def _crop_counts(rows: list[dict[str, str]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {}
    for row in rows:
        counts.setdefault(row["condition"], Counter())[row["skin_type"] or "unknown"] += 1
    return {condition: dict(sorted(c.items())) for condition, c in sorted(counts.items())}


def prepare_dataset(
    manifest: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int = 256,
    crops_per_group: int = 1,
    split: Sequence[float] = (0.7, 0.1, 0.2),
    hold_back: Mapping[str, int] | None = None,
    conditions: Sequence[str] | None = None,
    seed: int = 0,
    min_skin: float = 0.5,
    skip_bad: bool = False,
    strict_paths: bool = False,
    allow_empty_conditions: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> PrepareSummary:
    """Writes OUT/{images,maps,masks}/, OUT/manifest.csv, codebook.json, splits.csv and prepare.json.

    `strict_paths` refuses image paths outside the manifest's folder; `allow_empty_conditions` keeps a
    condition whose photos all failed (with `skip_bad`) in the codebook instead of stopping.
    """
    if size < 16:
        raise UserError(f"--size {size} is too small; use 32 or more (256 is the paper's)")
    if crops_per_group < 1:
        raise UserError("--crops-per-group must be at least 1")
    out = Path(out)
    report, records = load_records(
        manifest, check_image_files=False, skip_bad=skip_bad, strict_paths=strict_paths, progress=progress
    )
    base_dir = Path(report.manifest).parent
    splits = assign_splits(records, split, seed)
    if hold_back:
        splits = move_to_reserve(records, splits, hold_back, seed)
    selected = _select_conditions(records, conditions)
    codebook = Codebook.build((r.condition for r in selected), (r.skin_type for r in selected))
    settings = CropSettings(size=size, crops_per_group=crops_per_group, min_skin=min_skin)
    manifest_digest = hashlib.sha256(Path(report.manifest).read_bytes()).hexdigest()
    settings_text = json.dumps(
        [
            manifest_digest,
            asdict(settings),
            seed,
            list(split),
            codebook.model_dump(mode="json"),
            *([dict(sorted(hold_back.items()))] if hold_back else []),
        ]
    )
    fingerprint = hashlib.sha256(settings_text.encode()).hexdigest()
    _claim_output(out, fingerprint)
    tasks = [
        _PhotoTask(
            record=r,
            path=r.resolve(base_dir),
            source_image=os.path.relpath(r.resolve(base_dir), out.resolve()),
            out=out,
            split=splits[r.case_id],
            seed=seed,
            settings=settings,
            codebook=codebook,
            fingerprint=fingerprint,
        )
        for r in selected
        if r.boxes
    ]
    rows: list[dict[str, str]] = []
    problems, refused = list(report.problems), 0
    for result in parallel_map(crop_photo, tasks, workers=workers, desc="cropping", progress=progress):
        if isinstance(result, Problem):
            problems.append(result)
        else:
            rows.extend(result[0])
            refused += result[1]
    image_problems = len(problems) - len(report.problems)
    if image_problems and not skip_bad:
        listing = "\n".join(f"  row {p.row} ({p.image}), {p.column}: {p.reason}" for p in problems[:20])
        raise UserError(
            f"{image_problems} photo(s) cannot be used:\n{listing}\n"
            "Fix them, or pass --skip-bad to leave them out (crops made so far are kept for the rerun)."
        )
    if not rows and image_problems:
        raise UserError(f"no crop was made: all {len(tasks)} photos with boxes were skipped (see above)")
    if not rows:
        raise UserError("no crop was made: no usable row has boxes (import with --boxes whole-image?)")
    warnings = [
        *report.warnings,
        *_empty_conditions(codebook, selected, rows, problems, allow=allow_empty_conditions),
    ]
    write_manifest(out / "manifest.csv", rows)
    codebook.save(out / "codebook.json")
    write_splits(out / "splits.csv", splits)
    summary = PrepareSummary(
        out=str(out),
        size=size,
        n_source_images=len(selected),
        n_cropped_images=len({row["source_image"] for row in rows}),
        n_crops=len(rows),
        n_without_boxes=sum(not r.boxes for r in selected),
        n_refused_windows=refused,
        n_skipped_rows=len({p.row for p in problems}),
        problems=problems,
        conditions=codebook.conditions,
        crops_per_split=dict(sorted(Counter(row["split"] for row in rows).items())),
        counts=_crop_counts(rows),
        warnings=warnings,
    )
    write_json(out / "prepare.json", summary.model_dump(mode="json"))
    return summary
