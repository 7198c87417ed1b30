"""Components per box and border irregularity, checked against the phantom's own painted lesions.

The phantom knows where it painted each lesion and each acne papule (`lesion_opacity`): its opacity,
cut and resized exactly like a prepared crop, is the drawn mask (opacity above one half) the measures
must recover from the pixels. A "blob painter" (one soft disc per box in the lesion's own colour, on the
same skin) must fail them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from dermgan.data.boxes import boxes_mask
from dermgan.data.manifest import Box, parse_boxes, read_manifest, write_manifest
from dermgan.data.phantom import make_phantom
from dermgan.data.phantom.render import PhotoJob, lesion_opacity
from dermgan.data.prepare import prepare_dataset
from dermgan.evaluation.morphology import LesionShape, image_scale, lesion_shape
from dermgan.evaluation.roi import measure_roi

SEED = 11
SIZE_RANGE = (320, 640)
CONDITIONS = ("acne", "melanocytic nevus", "melanoma")
DRAWN_OPACITY = 0.5
SIZES = (64, 256)


@dataclass(frozen=True)
class Crop:
    """A prepared crop, its boxes, and per box the measured and the drawn lesion shape."""

    row: dict[str, str]
    rgb: np.ndarray
    boxes: tuple[Box, ...]
    drawn: np.ndarray
    """The mask of the lesions as painted (opacity above one half), in crop pixels."""
    measured: tuple[LesionShape, ...]
    truth: tuple[LesionShape, ...]


def _drawn_opacity(row: dict[str, str], size: int) -> np.ndarray:
    """The phantom's painted lesion opacity of the crop's photo, cut and resized as the crop was."""
    job = PhotoJob(
        seed=SEED,
        index=int(Path(row["source_image"]).stem.rsplit("-", 1)[1]),
        case_number=int(row["case_id"].rsplit("-", 1)[1]),
        condition=row["condition"],
        skin_type=int(row["skin_type"]),
        size_range=SIZE_RANGE,
        path=Path(row["source_image"]),
    )
    window = parse_boxes(row["crop_window"])[0]
    opacity = Image.fromarray(lesion_opacity(job))
    return np.asarray(opacity.resize((size, size), Image.Resampling.LANCZOS, box=window))


def _crop(prepared: Path, row: dict[str, str], size: int) -> Crop:
    rgb = np.asarray(Image.open(prepared / row["image"]).convert("RGB"))
    boxes = parse_boxes(row["boxes"])
    roi = boxes_mask(boxes, size, size)
    drawn = _drawn_opacity(row, size) > DRAWN_OPACITY
    # The drawn lesions lie in the crop's boxes: the truth is aligned with the pixels it checks.
    assert roi[drawn].mean() > 0.95
    measured = measure_roi(rgb, roi, boxes).shapes
    scale = image_scale(rgb.shape)
    truth = tuple(lesion_shape(drawn & boxes_mask([box], size, size), scale) for box in boxes)
    return Crop(row, rgb, boxes, drawn, measured, truth)


@pytest.fixture(scope="module")
def crops_at(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], tuple[Path, list[Crop]]]:
    """Prepared crops of 40 phantom photos (acne, nevi, melanoma on every skin type) at a given size."""
    root = tmp_path_factory.mktemp("morphology")
    make_phantom(
        root / "photos",
        40,
        seed=SEED,
        size_range=SIZE_RANGE,
        condition_weights=dict.fromkeys(CONDITIONS, 1.0),
        skin_type_weights=dict.fromkeys(range(1, 7), 1.0),
        workers=1,
        progress=False,
    )

    @functools.cache
    def prepared(size: int) -> tuple[Path, list[Crop]]:
        out = root / f"prepared-{size}"
        prepare_dataset(root / "photos" / "manifest.csv", out, size=size, workers=1, progress=False)
        return out, [_crop(out, row, size) for row in read_manifest(out / "manifest.csv").rows]

    return prepared


def _boxes(crops: list[Crop], condition: str) -> list[tuple[LesionShape, LesionShape]]:
    """(measured, drawn) shapes of every box of this condition."""
    return [
        pair
        for crop in crops
        if crop.row["condition"] == condition
        for pair in zip(crop.measured, crop.truth, strict=True)
    ]


@pytest.mark.parametrize("size", SIZES)
def test_components_per_box_recover_the_drawn_acne_spots_and_one_nevus(crops_at, size):
    """Acne: off by at most 2 spots in 3 boxes of 4, by under a quarter of the drawn count on average."""
    _, crops = crops_at(size)
    acne = np.array([(measured.components, drawn.components) for measured, drawn in _boxes(crops, "acne")])
    measured, drawn = acne.T
    assert len(acne) >= 10 and drawn.mean() >= 5
    errors = np.abs(measured - drawn)
    assert np.mean(errors <= 2) >= 0.75, acne.tolist()
    assert errors.mean() <= 0.25 * drawn.mean(), acne.tolist()
    nevi = [measured.components for measured, _ in _boxes(crops, "melanocytic nevus")]
    assert len(nevi) >= 5 and set(nevi) == {1}


@pytest.mark.parametrize("size", SIZES)
def test_irregularity_ranks_melanoma_above_nevus_and_matches_the_drawn_mask(crops_at, size):
    """Within 0.03 of the drawn mask's irregularity on average, and 0.1 in every box."""
    _, crops = crops_at(size)
    means = {}
    for condition in ("melanoma", "melanocytic nevus"):
        pairs = _boxes(crops, condition)
        assert len(pairs) >= 5
        measured = np.array([pair[0].irregularity for pair in pairs])
        drawn = np.array([pair[1].irregularity for pair in pairs])
        errors = np.abs(measured - drawn)
        assert errors.mean() <= 0.03 and errors.max() <= 0.1, (condition, measured, drawn)
        means[condition] = measured.mean()
    assert means["melanoma"] > 0.2 > 0.06 > means["melanocytic nevus"], means


def _blob_painted(crop: Crop, seed: int) -> np.ndarray:
    """The crop with each box repainted as healthy skin (its median colour, with sensor-like noise)
    under one soft disc of the real lesion's mean colour: a generator that knows a lesion's colour, not
    its shape."""
    rng = np.random.default_rng(seed)
    height, width = crop.rgb.shape[:2]
    pixels = crop.rgb.astype(np.float64)
    roi = boxes_mask(crop.boxes, width, height)
    skin = np.median(pixels[~roi], axis=0)
    ys, xs = np.mgrid[:height, :width] + 0.5
    for box in crop.boxes:
        inside = boxes_mask([box], width, height)
        lesion = pixels[inside & crop.drawn].mean(axis=0)
        radius = 0.4 * min(box[2] - box[0], box[3] - box[1])
        distance = np.hypot(xs - (box[0] + box[2]) / 2, ys - (box[1] + box[3]) / 2)
        alpha = np.clip((radius - distance) / (0.3 * radius) + 0.5, 0.0, 1.0)[..., None]
        pixels[inside] = (skin + alpha * (lesion - skin))[inside]
    pixels += rng.normal(0.0, 2.0, (height, width, 1)) * roi[..., None]
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def _blob_shapes(crops: list[Crop], condition: str) -> list[LesionShape]:
    return [
        shape
        for index, crop in enumerate(crops)
        if crop.row["condition"] == condition
        for shape in measure_roi(
            _blob_painted(crop, index), boxes_mask(crop.boxes, *crop.rgb.shape[1::-1]), crop.boxes
        ).shapes
    ]


@pytest.mark.parametrize("size", SIZES)
def test_a_blob_painter_fails_both_measures(crops_at, size):
    _, crops = crops_at(size)
    real_acne = np.mean([measured.components for measured, _ in _boxes(crops, "acne")])
    blob_acne = np.mean([shape.components for shape in _blob_shapes(crops, "acne")])
    real_melanoma = np.mean([measured.irregularity for measured, _ in _boxes(crops, "melanoma")])
    blob_melanoma = np.mean([shape.irregularity for shape in _blob_shapes(crops, "melanoma")])
    assert blob_acne <= 1.2 and real_acne >= 4, (real_acne, blob_acne)
    assert blob_melanoma <= 0.06 and real_melanoma >= 0.2, (real_melanoma, blob_melanoma)


def test_eval_roi_reports_both_sets_morphology_side_by_side(monkeypatch, capsys, crops_at, tmp_path):
    prepared, crops = crops_at(64)
    rows = []
    for index, crop in enumerate(crops):
        name = f"images/{index}.png"
        (tmp_path / "blobs" / "images").mkdir(parents=True, exist_ok=True)
        Image.fromarray(_blob_painted(crop, index)).save(tmp_path / "blobs" / name)
        rows.append({**crop.row, "image": name, "boxes": json.dumps(crop.boxes), "source": "synthetic"})
    write_manifest(tmp_path / "blobs" / "manifest.csv", rows)
    code, stdout, _ = run_cli(
        monkeypatch,
        capsys,
        "eval",
        "roi",
        prepared,
        tmp_path / "blobs",
        "--out",
        tmp_path / "out",
        "--json",
        "--no-progress",
    )
    assert code == 0 and "lesion morphology per box and condition" in stdout
    assert "irregularity = 1 - 4*pi*area/perimeter^2" in " ".join(stdout.split())
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report == json.loads((tmp_path / "out" / "roi.json").read_text())
    real, blobs = (
        {group["condition"]: group["morphology"] for group in roi_set["by_condition"]}
        for roi_set in report["sets"]
    )
    assert real["acne"]["n_boxes"] == blobs["acne"]["n_boxes"] >= 10
    assert real["acne"]["components"]["mean"] >= 4 and blobs["acne"]["components"]["mean"] <= 1.2
    irregularity = [morphology["melanoma"]["irregularity"]["mean"] for morphology in (real, blobs)]
    assert irregularity[0] >= 0.2 and irregularity[1] <= 0.06, irregularity
    assert {"n_scored", "contrast", "delta_e_inside", "edge_score"} <= set(report["sets"][0]["overall"])
