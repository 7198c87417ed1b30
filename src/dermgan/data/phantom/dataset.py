"""Writing the phantom dataset: photos, manifest, COCO annotations, skin-type table and a README.

The phantom plays the part of a real dataset (manifest `source` is "real") so that every stage can be
run on it; what it really is stays recorded in the `dataset` and `license` columns and in its README.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from dermgan import __version__
from dermgan.conditions import FITZPATRICK_TYPES, ROMAN
from dermgan.data.manifest import format_boxes, write_manifest
from dermgan.data.phantom.labels import Case, plan_cases
from dermgan.data.phantom.lesions import CONDITIONS
from dermgan.data.phantom.render import JPEG_QUALITY, PhotoJob, PhotoRecord, write_photo
from dermgan.data.phantom.tone import ITA_MARGIN
from dermgan.errors import UserError
from dermgan.files import atomic_write, write_json, write_text
from dermgan.parallel import parallel_map

DATASET_NAME = "dermgan-phantom"


def names_phantom(datasets: Iterable[str]) -> bool:
    """Whether any of these `dataset` names is a phantom's, so that what is made from it says so."""
    return any("phantom" in name for name in datasets)


LICENSE = "CC0-1.0 (synthetic phantom)"
MIN_SIZE = 64  # below this the lesions and the background strip no longer fit a photo


class PhantomSummary(BaseModel):
    """What `make_phantom` wrote: counts per condition and skin type, and the paths of its files."""

    out: Path
    seed: int
    n_images: int
    n_cases: int
    n_boxes: int
    per_condition: dict[str, int]
    per_skin_type: dict[str, int]
    images: Path
    manifest: Path
    coco: Path
    skin_types: Path
    readme: Path


def make_phantom(
    out: str | os.PathLike[str],
    n: int,
    seed: int = 0,
    size_range: tuple[int, int] = (320, 640),
    condition_weights: Mapping[str, float] | None = None,
    skin_type_weights: Mapping[int, float] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> PhantomSummary:
    """Writes `n` synthetic clinical photos with labels and boxes to `out`; same seed, same files.

    Width and height are drawn independently from `size_range`. The weights give the relative frequency of
    each condition and Fitzpatrick type (1-6); those left out are never drawn. By default melanoma and types
    V-VI are rare, as in real clinical data.
    """
    out = Path(out)
    _check_arguments(n, size_range)
    cases = plan_cases(n, seed, condition_weights, skin_type_weights)
    jobs = _jobs(cases, seed, (int(size_range[0]), int(size_range[1])), out)
    records = list(parallel_map(write_photo, jobs, workers=workers, desc="phantom photos", progress=progress))
    names = [job.path.relative_to(out).as_posix() for job in jobs]
    paths = {
        "manifest": write_manifest(out / "manifest.csv", _manifest_rows(jobs, names, records)),
        "coco": out / "annotations.coco.json",
        "skin_types": out / "skin_types.csv",
        "readme": out / "README.md",
    }
    write_json(paths["coco"], _coco(jobs, names, records))
    atomic_write(paths["skin_types"], lambda handle: _write_skin_types(handle, jobs, names))
    summary = PhantomSummary(
        out=out,
        seed=seed,
        n_images=len(jobs),
        n_cases=len(cases),
        n_boxes=sum(len(record.boxes) for record in records),
        per_condition=_counts((job.condition for job in jobs), CONDITIONS),
        per_skin_type=_counts((str(job.skin_type) for job in jobs), [str(t) for t in FITZPATRICK_TYPES]),
        images=out / "images",
        **paths,
    )
    write_text(paths["readme"], _readme(summary, size_range))
    return summary


def _check_arguments(n: int, size_range: tuple[int, int]) -> None:
    if int(n) != n or n < 1:
        raise UserError(f"the number of phantom photos must be a whole number of at least 1, not {n!r}")
    low, high = size_range
    if not MIN_SIZE <= low <= high:
        raise UserError(
            f"size range {low},{high} must be two pixel sizes, the first not larger, both at least {MIN_SIZE}"
        )


def _jobs(cases: Sequence[Case], seed: int, size_range: tuple[int, int], out: Path) -> list[PhotoJob]:
    jobs = []
    for case in cases:
        for _ in range(case.photos):
            index = len(jobs)
            path = out / "images" / f"phantom-{index:06d}.jpg"
            jobs.append(PhotoJob(seed, index, case.number, case.condition, case.skin_type, size_range, path))
    return jobs


def _manifest_rows(
    jobs: Sequence[PhotoJob], names: Sequence[str], records: Sequence[PhotoRecord]
) -> list[dict[str, str]]:
    return [
        {
            "image": name,
            "condition": job.condition,
            "skin_type": str(job.skin_type),
            "boxes": format_boxes(record.boxes),
            "case_id": f"phantom-case-{job.case_number:06d}",
            "split": "",
            "source": "real",
            "dataset": DATASET_NAME,
            "license": LICENSE,
            "skin_ita": f"{record.ita:.1f}",
        }
        for job, name, record in zip(jobs, names, records, strict=True)
    ]


def _coco(jobs: Sequence[PhotoJob], names: Sequence[str], records: Sequence[PhotoRecord]) -> dict:
    """A standard COCO detection file; `file_name` is relative to the folder that holds it."""
    category_ids = {condition: number for number, condition in enumerate(CONDITIONS, start=1)}
    images, annotations = [], []
    for image_id, (job, name, record) in enumerate(zip(jobs, names, records, strict=True), start=1):
        images.append(
            {
                "id": image_id,
                "file_name": name,
                "width": record.width,
                "height": record.height,
                "license": 1,
                "skin_type": job.skin_type,
            }
        )
        for x0, y0, x1, y1 in record.boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[job.condition],
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": 0,
                }
            )
    return {
        "info": {
            "description": "DermGAN phantom: synthetic skin photos, no real patients",
            "version": __version__,
        },
        "licenses": [{"id": 1, "name": LICENSE, "url": "https://creativecommons.org/publicdomain/zero/1.0/"}],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": number, "name": condition, "supercategory": "skin condition"}
            for condition, number in category_ids.items()
        ],
    }


def _write_skin_types(handle, jobs: Sequence[PhotoJob], names: Sequence[str]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["file_name", "skin_type"])
    writer.writerows((name, job.skin_type) for job, name in zip(jobs, names, strict=True))


def _counts(labels, vocabulary: Sequence[str]) -> dict[str, int]:
    counted = Counter(labels)
    return {label: counted[label] for label in vocabulary}


def _readme(summary: PhantomSummary, size_range: tuple[int, int]) -> str:
    conditions = "\n".join(f"| {name} | {count} |" for name, count in summary.per_condition.items())
    skin_types = "\n".join(
        f"| {ROMAN[int(skin_type)]} | {count} |" for skin_type, count in summary.per_skin_type.items()
    )
    return f"""# DermGAN phantom dataset (synthetic)

**Every photo here is synthetic.** No patient, camera or clinician was involved: `dermgan data phantom`
(dermgan {__version__}) painted them from random numbers, seed {summary.seed}. Use the phantom to try and test
the pipeline; never draw a clinical conclusion from it. Licence: {LICENSE}.

{summary.n_images} photos of {summary.n_cases} cases (a case holds 1-3 photos of the same skin and lesions),
{summary.n_boxes} lesion boxes. The same seed and arguments give byte-identical files.

## How the photos are made

- Size: width and height drawn independently from {size_range[0]}-{size_range[1]} px; JPEG quality
  {JPEG_QUALITY}, no metadata.
- Skin: a CIELAB colour whose Individual Typology Angle (ITA = atan2(L* - 50, b*)) lies inside the band of the
  case's Fitzpatrick type, at least {ITA_MARGIN} degrees from its edges (the `skin_ita` column), with skin
  lines, pores, mottling, optional hair, uneven lighting, defocus blur and sensor noise, all roughly
  preserving the median skin tone.
- Background: most photos show a strip or corner of wall, drape, sheet or clothing along one edge, in a
  colour that is clearly not skin (blue, green, grey).
- Lesions: 1-3 per photo, all of the case's condition, each with its tight box `[x0, y0, x1, y1]` in pixels
  (an acne box encloses a cluster of papules). Colours are offsets from the skin colour, so red lesions look
  violaceous or dark brown on dark skin and a nevus is darker on darker skin.

## Files

- `images/phantom-NNNNNN.jpg`
- `manifest.csv`: image, condition, skin_type, boxes, case_id, split (empty), source (`real`: the phantom
  stands in for a real dataset), dataset (`{DATASET_NAME}`), license, skin_ita
- `annotations.coco.json`: COCO detection format, `file_name` relative to this folder, one category per
  condition; `skin_types.csv` (file_name, skin_type) for the COCO import path

## Counts

| condition | photos |
|---|---|
{conditions}

| Fitzpatrick type | photos |
|---|---|
{skin_types}
"""
