"""The phantom dataset: tones in their ITA bands, lesions that look like their condition, files that agree.

Every check measures the written JPEGs independently (skimage's rgb2lab, a colour-distance segmentation),
never the phantom's own internals.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.measure import label, regionprops

from dermgan.conditions import ITA_BANDS
from dermgan.data.manifest import parse_boxes, read_manifest
from dermgan.data.phantom import CONDITIONS, make_phantom, plan_cases
from dermgan.data.phantom.lesions import LESION_KINDS
from dermgan.errors import UserError

LESION_DISTANCE = 7.0  # CIELAB distance from the surrounding skin that counts as lesion
DARK_CONDITIONS = ("melanoma", "melanocytic nevus", "seborrheic keratosis")
RED_CONDITIONS = ("actinic keratosis", "psoriasis", "eczema", "acne")


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> Path:
    """160 photos, every condition and skin type equally likely, small enough to measure quickly."""
    out = tmp_path_factory.mktemp("phantom")
    make_phantom(
        out,
        160,
        seed=5,
        size_range=(256, 320),
        condition_weights=dict.fromkeys(CONDITIONS, 1.0),
        skin_type_weights=dict.fromkeys(range(1, 7), 1.0),
        workers=1,
        progress=False,
    )
    return out


@pytest.fixture(scope="module")
def rows(phantom: Path) -> list[dict[str, str]]:
    return read_manifest(phantom / "manifest.csv").rows


@pytest.fixture(scope="module")
def measured(phantom: Path, rows) -> list[dict]:
    """Per photo: its Lab pixels, skin mask (skin-coloured, outside every box) and the lesion statistics."""
    photos = []
    for row in rows:
        lab = rgb2lab(np.asarray(Image.open(phantom / row["image"])))
        boxes = [tuple(int(v) for v in box) for box in parse_boxes(row["boxes"])]
        healthy = _skin_coloured(lab)
        for x0, y0, x1, y1 in boxes:
            healthy[max(y0 - 3, 0) : y1 + 3, max(x0 - 3, 0) : x1 + 3] = False
        lesions = [_lesion(lab, healthy, box) for box in boxes]
        photos.append({"row": row, "lab": lab, "healthy": healthy, "lesions": lesions})
    return photos


def _skin_coloured(lab: np.ndarray) -> np.ndarray:
    """Pixels whose hue is that of skin (orange-red, some chroma): not blue, green or grey background."""
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    return (np.hypot(lab[..., 1], lab[..., 2]) > 6) & (hue > 20) & (hue < 90)


def _lesion(lab: np.ndarray, healthy: np.ndarray, box: tuple[int, int, int, int]) -> dict:
    """Segments the lesion in its box by distance from the median colour of the healthy skin around it."""
    x0, y0, x1, y1 = box
    margin = max(6, (x1 - x0 + y1 - y0) // 4)
    ring = np.zeros_like(healthy)
    ring[max(y0 - margin, 0) : y1 + margin, max(x0 - margin, 0) : x1 + margin] = True
    skin = np.median(lab[ring & healthy], axis=0)
    inside = lab[y0:y1, x0:x1]
    segmented = np.linalg.norm(inside - skin, axis=-1) > LESION_DISTANCE
    regions = [region for region in regionprops(label(segmented)) if region.area >= 3]
    largest = max(regions, key=lambda region: region.area, default=None)
    difference = (inside[segmented] - skin).mean(axis=0) if segmented.any() else np.zeros(3)
    shorter = min(lab.shape[:2])
    return {
        "size": np.sqrt((x1 - x0) * (y1 - y0)) / shorter,
        "delta_l": difference[0],
        "delta_a": difference[1],
        "lightness": inside[segmented][:, 0].mean() if segmented.any() else np.nan,
        "solidity": largest.solidity if largest else 0.0,
        "spots": len(regions),
    }


def _lesions(measured, condition: str, skin_types=range(1, 7)) -> list[dict]:
    return [
        lesion
        for photo in measured
        if photo["row"]["condition"] == condition and int(photo["row"]["skin_type"]) in skin_types
        for lesion in photo["lesions"]
    ]


def _median(lesions: list[dict], key: str) -> float:
    assert lesions, "no lesions of this kind were drawn"
    return float(np.median([lesion[key] for lesion in lesions]))


def test_healthy_skin_tone_is_in_the_band_of_its_skin_type(measured):
    outside = []
    for photo in measured:
        lab, healthy = photo["lab"], photo["healthy"]
        ita = np.degrees(np.arctan2(lab[..., 0][healthy] - 50.0, lab[..., 2][healthy]))
        low, high = ITA_BANDS[int(photo["row"]["skin_type"])]
        if not low < np.median(ita) <= high:
            outside.append((photo["row"]["image"], photo["row"]["skin_type"], float(np.median(ita))))
    assert len(outside) <= len(measured) // 50, outside


def test_every_skin_type_and_condition_is_drawn(rows):
    assert {row["skin_type"] for row in rows} == {"1", "2", "3", "4", "5", "6"}
    assert {row["condition"] for row in rows} == set(CONDITIONS)


def test_lesion_size_small_nevus_large_plaques(measured):
    nevus = _median(_lesions(measured, "melanocytic nevus"), "size")
    assert nevus < 0.09
    for plaque in ("psoriasis", "eczema"):
        assert _median(_lesions(measured, plaque), "size") > 3 * nevus
    assert _median(_lesions(measured, "melanoma"), "size") > 2 * nevus


@pytest.mark.parametrize("condition", DARK_CONDITIONS)
def test_pigmented_lesions_are_darker_than_the_skin(measured, condition):
    assert _median(_lesions(measured, condition), "delta_l") < -12


@pytest.mark.parametrize("condition", RED_CONDITIONS)
def test_inflamed_lesions_are_redder_than_the_skin(measured, condition):
    lesions = _lesions(measured, condition)
    assert _median(lesions, "delta_a") > 5
    assert _median(lesions, "delta_l") < 0


def test_basal_cell_carcinoma_is_pink_and_pearly_not_dark(measured):
    lesions = _lesions(measured, "basal cell carcinoma")
    assert _median(lesions, "delta_a") > 4
    assert _median(lesions, "delta_l") > -3


def test_colours_follow_the_skin_tone(measured):
    """A nevus is darker on dark skin; erythema is less bright red on dark skin (violaceous instead)."""
    light, dark = (1, 2), (5, 6)
    nevus = "melanocytic nevus"
    assert (
        _median(_lesions(measured, nevus, dark), "lightness")
        < _median(_lesions(measured, nevus, light), "lightness") - 15
    )
    for condition in RED_CONDITIONS:
        on_dark = _median(_lesions(measured, condition, dark), "delta_a")
        assert 0 < on_dark < _median(_lesions(measured, condition, light), "delta_a")


def test_melanoma_outline_is_less_convex_than_a_nevus(measured):
    melanoma = _median(_lesions(measured, "melanoma"), "solidity")
    nevus = _median(_lesions(measured, "melanocytic nevus"), "solidity")
    assert nevus > 0.92
    assert melanoma < nevus - 0.05


def test_acne_box_holds_several_papules_a_nevus_one_spot(measured):
    acne = _lesions(measured, "acne")
    assert _median(acne, "spots") >= 4
    assert min(lesion["spots"] for lesion in acne) >= 2
    nevi = _lesions(measured, "melanocytic nevus")
    assert sum(lesion["spots"] == 1 for lesion in nevi) >= 0.9 * len(nevi)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_each_lesion_stays_within_its_reach(condition):
    """A lesion that spilled over its patch would be cut off with a hard edge (and could cover another)."""
    kind = LESION_KINDS[condition]
    for seed in range(12):
        layer = kind.layer(
            np.random.default_rng(seed), radius=12.0 + 3 * seed, skin_lab=np.array([60.0, 10, 18])
        )
        border = np.concatenate([layer.alpha[0], layer.alpha[-1], layer.alpha[:, 0], layer.alpha[:, -1]])
        assert border.max() < 0.02
        assert layer.alpha.max() > 0.7 and layer.rgb.shape == (3, *layer.alpha.shape)


def test_photos_show_non_skin_background_at_the_border(measured):
    with_background = 0
    for photo in measured:
        background = ndimage.binary_opening(~_skin_coloured(photo["lab"]), np.ones((3, 3)))
        for x0, y0, x1, y1 in parse_boxes(photo["row"]["boxes"]):
            background[int(y0) : int(y1), int(x0) : int(x1)] = False
        if background.mean() < 0.02:
            continue
        with_background += 1
        height, width = background.shape
        rows, cols = np.nonzero(background)
        from_edge = np.minimum.reduce([rows, cols, height - 1 - rows, width - 1 - cols])
        assert np.mean(from_edge < 0.25 * min(height, width)) > 0.95, photo["row"]["image"]
    assert 0.4 * len(measured) < with_background < 0.95 * len(measured)


def test_manifest_coco_and_skin_types_agree(phantom: Path, rows):
    coco = json.loads((phantom / "annotations.coco.json").read_text())
    categories = {category["id"]: category["name"] for category in coco["categories"]}
    assert sorted(categories.values()) == sorted(CONDITIONS)
    images = {image["id"]: image for image in coco["images"]}
    boxes_by_file = defaultdict(list)
    for annotation in coco["annotations"]:
        image = images[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        assert annotation["iscrowd"] == 0 and annotation["area"] == w * h
        assert categories[annotation["category_id"]] == next(
            row["condition"] for row in rows if row["image"] == image["file_name"]
        )
        boxes_by_file[image["file_name"]].append((x, y, x + w, y + h))
    with open(phantom / "skin_types.csv", newline="") as handle:
        skin_types = {line["file_name"]: line["skin_type"] for line in csv.DictReader(handle)}
    assert len(images) == len(rows) == len(skin_types)
    sizes = {image["file_name"]: (image["width"], image["height"]) for image in images.values()}
    for row in rows:
        boxes = parse_boxes(row["boxes"])
        assert 1 <= len(boxes) <= 3
        assert sorted(boxes) == sorted(boxes_by_file[row["image"]])
        assert skin_types[row["image"]] == row["skin_type"]
        with Image.open(phantom / row["image"]) as photo:
            assert photo.size == sizes[row["image"]]
            assert 256 <= photo.width <= 320 and 256 <= photo.height <= 320
            assert not photo.getexif() and "exif" not in photo.info
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= photo.width and 0 <= y0 < y1 <= photo.height


def test_manifest_labels_the_phantom_as_a_synthetic_stand_in(phantom: Path, rows):
    table = read_manifest(phantom / "manifest.csv")
    assert table.columns[:7] == ["image", "condition", "skin_type", "boxes", "case_id", "split", "source"]
    assert {(row["source"], row["split"], row["dataset"]) for row in rows} == {
        ("real", "", "dermgan-phantom")
    }
    assert {row["license"] for row in rows} == {"CC0-1.0 (synthetic phantom)"}
    assert "synthetic" in (phantom / "README.md").read_text().lower()


def test_cases_group_photos_of_one_condition_and_skin_type(rows):
    cases = defaultdict(list)
    for row in rows:
        cases[row["case_id"]].append((row["condition"], row["skin_type"]))
    sizes = Counter(len(labels) for labels in cases.values())
    assert set(sizes) <= {1, 2, 3} and sizes[2] + sizes[3] >= 5
    assert all(len(set(labels)) == 1 for labels in cases.values())


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()
    }


def test_same_seed_gives_the_same_bytes_whatever_the_workers(tmp_path: Path):
    def make(name: str, seed: int, workers: int) -> dict[str, bytes]:
        make_phantom(tmp_path / name, 16, seed=seed, size_range=(64, 96), workers=workers, progress=False)
        return _files(tmp_path / name)

    serial = make("serial", seed=1, workers=1)
    assert len(serial) == 16 + 4
    assert make("parallel", seed=1, workers=2) == serial
    other = make("other", seed=2, workers=1)
    assert other["images/phantom-000000.jpg"] != serial["images/phantom-000000.jpg"]


def test_default_imbalance_makes_melanoma_and_dark_types_rare():
    photos = Counter()
    for case in plan_cases(1000, seed=0):
        photos[case.condition] += case.photos
        photos[case.skin_type] += case.photos
    assert photos["melanoma"] < 0.5 * photos["melanocytic nevus"]
    assert photos["melanoma"] < 0.08 * 1000
    assert photos[5] + photos[6] < 0.2 * 1000 and photos[6] < photos[5] < photos[2]


def test_weights_choose_what_is_drawn():
    cases = plan_cases(50, seed=0, condition_weights={"acne": 1.0}, skin_type_weights={6: 2.0, 1: 0.0})
    assert {(case.condition, case.skin_type) for case in cases} == {("acne", 6)}
    assert sum(case.photos for case in cases) == 50


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 0}, "at least 1"),
        ({"size_range": (32, 64)}, "at least 64"),
        ({"size_range": (400, 300)}, "the first not larger"),
        ({"condition_weights": {"wart": 1.0}}, "unknown condition 'wart'"),
        ({"skin_type_weights": {3: 0.0}}, "at least one above zero"),
    ],
)
def test_bad_arguments_are_one_clear_error(tmp_path: Path, arguments, message):
    with pytest.raises(UserError, match=message):
        make_phantom(tmp_path / "bad", **{"n": 4, **arguments}, progress=False)
