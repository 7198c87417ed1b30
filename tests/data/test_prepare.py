"""`data prepare`: aligned crops, exact maps, case-level splits, seeded and resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from conftest import make_photo
from dermgan.data.boxes import boxes_mask
from dermgan.data.crop import CropSettings, plan_windows
from dermgan.data.manifest import parse_boxes, read_manifest, write_manifest
from dermgan.data.prepare import prepare_dataset
from dermgan.data.semantic_map import Codebook
from dermgan.data.splits import assign_splits, read_splits, split_counts
from dermgan.data.validate import validate_manifest
from dermgan.errors import UserError


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.fixture
def prepared(small_dataset: Path, tmp_path: Path) -> Path:
    prepare_dataset(
        small_dataset, tmp_path / "prepared", size=48, crops_per_group=2, workers=1, progress=False
    )
    return tmp_path / "prepared"


def test_crops_maps_and_masks_are_aligned(prepared: Path):
    codebook = Codebook.load(prepared / "codebook.json")
    rows = read_manifest(prepared / "manifest.csv").rows
    assert len(rows) == 24
    for row in rows:
        image, semantic, mask = (pixels(prepared / row[k]) for k in ("image", "map", "mask"))
        assert image.shape == (48, 48, 3) and semantic.shape == (48, 48, 3) and mask.shape == (48, 48)
        skin_type, condition, roi = codebook.decode(semantic)
        assert (skin_type, condition) == (row["skin_type"], row["condition"])
        assert np.array_equal(roi, mask > 0)
        assert np.array_equal(roi, boxes_mask(parse_boxes(row["boxes"]), 48, 48))
        lesion = image.mean(axis=-1) < 100
        assert lesion[roi].mean() > 0.8, "the dark lesion fills the ROI"
        assert lesion[~roi].mean() < 0.05, "and stays inside it"


def test_splits_are_by_case_and_written_once(prepared: Path):
    splits = read_splits(prepared / "splits.csv")
    rows = read_manifest(prepared / "manifest.csv").rows
    split_of_case: dict[str, set[str]] = {}
    for row in rows:
        split_of_case.setdefault(row["case_id"], set()).add(row["split"])
        assert row["split"] == splits[row["case_id"]]
    assert all(len(s) == 1 for s in split_of_case.values()), "no case straddles two splits"
    assert set(splits) == {f"case_{k}" for k in range(6)}


def test_split_counts_keep_rare_conditions_tested():
    assert split_counts(1, (0.7, 0.1, 0.2)) == [1, 0, 0]
    assert split_counts(2, (0.7, 0.1, 0.2)) == [1, 0, 1]
    assert split_counts(10, (0.7, 0.1, 0.2)) == [7, 1, 2]


def test_splits_are_stratified_by_condition_and_keep_given_ones(small_dataset: Path):
    _, records = validate_manifest(small_dataset, check_image_files=False)
    many = [
        r.__class__(**{**r.__dict__, "case_id": f"{r.condition}-{k}-{r.row}"})
        for k in range(10)
        for r in records
    ]
    splits = assign_splits(many, (0.7, 0.1, 0.2), seed=3)
    for condition in ("melanoma", "acne", "eczema"):
        labels = [s for case, s in splits.items() if case.startswith(condition)]
        assert (labels.count("train"), labels.count("val"), labels.count("test")) == (28, 4, 8)
    given = [records[0].__class__(**{**records[0].__dict__, "split": "test"})]
    assert assign_splits(given) == {records[0].case_id: "test"}


def test_same_seed_same_crops_whatever_the_workers(small_dataset: Path, tmp_path: Path):
    table = read_manifest(small_dataset)
    copies = [{**row, "image": row["image"].replace(".png", "_copy.png")} for row in table.rows]
    for row, copy in zip(table.rows, copies, strict=True):
        (small_dataset.parent / copy["image"]).write_bytes((small_dataset.parent / row["image"]).read_bytes())
    write_manifest(small_dataset, table.rows + copies)  # enough photos for the worker pool to start
    prepare_dataset(small_dataset, tmp_path / "a", size=32, seed=5, workers=1, progress=False)
    prepare_dataset(small_dataset, tmp_path / "b", size=32, seed=5, workers=2, progress=False)
    prepare_dataset(small_dataset, tmp_path / "c", size=32, seed=6, workers=1, progress=False)
    a, b, c = (read_manifest(tmp_path / d / "manifest.csv").rows for d in "abc")
    assert a == b
    windows = [[row["crop_window"] for row in rows] for rows in (a, c)]
    assert sum(x != y for x, y in zip(*windows, strict=True)) > len(a) // 2, "another seed, other windows"
    first = a[0]["image"]
    assert (tmp_path / "a" / first).read_bytes() == (tmp_path / "b" / first).read_bytes()


def test_an_interrupted_run_resumes_without_redoing_finished_photos(small_dataset: Path, tmp_path: Path):
    out = tmp_path / "out"
    prepare_dataset(small_dataset, out, size=32, workers=1, progress=False)
    expected = (out / "manifest.csv").read_text()
    records = sorted((out / "records").iterdir())
    kept, lost = records[:5], records[5:]
    stamps = {p: p.stat().st_mtime_ns for p in kept}
    for marker in lost:
        marker.unlink()
    (out / "manifest.csv").unlink()
    prepare_dataset(small_dataset, out, size=32, workers=1, progress=False)
    assert (out / "manifest.csv").read_text() == expected
    assert all(p.stat().st_mtime_ns == stamps[p] for p in kept), "finished photos were not redone"
    assert all(p.exists() for p in lost)


def test_other_settings_into_the_same_folder_are_refused(small_dataset: Path, tmp_path: Path):
    prepare_dataset(small_dataset, tmp_path / "out", size=32, workers=1, progress=False)
    with pytest.raises(UserError, match="other settings"):
        prepare_dataset(small_dataset, tmp_path / "out", size=48, workers=1, progress=False)


def test_windows_avoid_walls_and_are_refused_when_there_is_no_skin():
    skin = np.ones((100, 200), dtype=bool)
    skin[:, :120] = False  # a wall over the left 60%
    settings = CropSettings(size=32, crops_per_group=5, min_skin=0.9, margin=(0.5, 1.0))
    rng = np.random.default_rng(0)
    windows, refused = plan_windows(skin, [(140, 40, 160, 60)], settings, rng)
    assert len(windows) == 5 and refused == 0
    assert all(w[0] >= 120 - 0.1 * (w[2] - w[0]) for w in windows)
    windows, refused = plan_windows(np.zeros((100, 200), dtype=bool), [(140, 40, 160, 60)], settings, rng)
    assert windows == [] and refused == 5


def test_windows_contain_their_whole_group():
    skin = np.ones((300, 400), dtype=bool)
    boxes = [(100, 100, 130, 120), (135, 110, 160, 150), (300, 20, 320, 40)]
    windows, _ = plan_windows(skin, boxes, CropSettings(crops_per_group=3), np.random.default_rng(1))
    assert len(windows) == 6, "two groups x three crops"
    for x0, y0, x1, y1 in windows:
        assert x1 - x0 == pytest.approx(y1 - y0) and x0 >= 0 and y0 >= 0 and x1 <= 400 and y1 <= 300
        inside_first = x0 <= 100 and y0 <= 100 and x1 >= 160 and y1 >= 150
        inside_second = x0 <= 300 and y0 <= 20 and x1 >= 320 and y1 >= 40
        assert inside_first or inside_second


def test_condition_selection_and_photos_without_boxes(small_dataset: Path, tmp_path: Path):
    table = read_manifest(small_dataset)
    table.rows[0]["boxes"] = ""
    write_manifest(small_dataset, table.rows)
    summary = prepare_dataset(
        small_dataset, tmp_path / "o", size=32, conditions=["melanoma"], workers=1, progress=False
    )
    assert summary.conditions == ["melanoma"] and summary.n_without_boxes == 1
    assert summary.n_crops == 3
    assert len(read_splits(tmp_path / "o" / "splits.csv")) == 6, "splits cover the whole dataset"
    with pytest.raises(UserError, match="'melanomma', which no usable row has"):
        prepare_dataset(small_dataset, tmp_path / "p", size=32, conditions=["melanomma"], progress=False)


def test_bad_photos_stop_the_run_unless_skipped(small_dataset: Path, tmp_path: Path):
    (small_dataset.parent / "images" / "photo_03.png").write_bytes(b"broken")
    with pytest.raises(UserError, match=r"photo_03\.png.*(truncated or corrupt|not an image)"):
        prepare_dataset(small_dataset, tmp_path / "o", size=32, workers=1, progress=False)
    assert not (tmp_path / "o" / "manifest.csv").exists(), "no half-written manifest"
    summary = prepare_dataset(
        small_dataset, tmp_path / "o", size=32, workers=1, skip_bad=True, progress=False
    )
    assert summary.n_crops == 11 and summary.n_skipped_rows == 1
    assert json.loads((tmp_path / "o" / "prepare.json").read_text())["n_crops"] == 11


def test_written_crops_carry_no_metadata_of_the_source(tmp_path: Path):
    source = make_photo(tmp_path / "raw.png")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {2: (51, 30, 0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.open(source).save(tmp_path / "photo.jpg", exif=exif, icc_profile=icc, quality=95)
    rows = [{"image": "photo.jpg", "condition": "nevus", "skin_type": "2", "boxes": "[[60,40,90,70]]"}]
    manifest = write_manifest(tmp_path / "m.csv", rows)
    prepare_dataset(manifest, tmp_path / "o", size=32, workers=1, progress=False)
    [row] = read_manifest(tmp_path / "o" / "manifest.csv").rows
    with Image.open(tmp_path / "o" / row["image"]) as crop:
        assert not crop.getexif() and not crop.info.get("exif") and not crop.info.get("icc_profile")
        assert set(crop.info) <= {"dpi"}


def test_exif_rotated_photos_crop_in_the_displayed_orientation(tmp_path: Path):
    displayed = make_photo(tmp_path / "displayed.png", width=120, height=160, lesion=(20, 100, 50, 140))
    stored = Image.open(displayed).transpose(Image.Transpose.ROTATE_90)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=98)
    rows = [{"image": "phone.jpg", "condition": "nevus", "skin_type": "3", "boxes": "[[20,100,50,140]]"}]
    manifest = write_manifest(tmp_path / "m.csv", rows)
    prepare_dataset(manifest, tmp_path / "o", size=48, workers=1, progress=False)
    [row] = read_manifest(tmp_path / "o" / "manifest.csv").rows
    roi = pixels(tmp_path / "o" / row["mask"]) > 0
    lesion = pixels(tmp_path / "o" / row["image"]).mean(axis=-1) < 100
    assert lesion[roi].mean() > 0.8 and lesion[~roi].mean() < 0.05


def test_windows_at_the_edge_of_large_photos_stay_inside_them(tmp_path: Path):
    """The skin test runs on a rounded downscaled copy; windows planned there must still fit the photo."""
    make_photo(tmp_path / "edge.png", width=445, height=559, lesion=(380, 260, 445, 344))
    rows = [{"image": "edge.png", "condition": "nevus", "skin_type": "2", "boxes": "[[380,260,445,344]]"}]
    manifest = write_manifest(tmp_path / "m.csv", rows)
    prepare_dataset(manifest, tmp_path / "o", size=32, crops_per_group=4, workers=1, progress=False)
    assert len(read_manifest(tmp_path / "o" / "manifest.csv").rows) == 4


def test_held_back_cases_are_prepared_in_the_reserve_and_no_training_reads_them(
    small_dataset: Path, tmp_path: Path
):
    from dermgan.data.dataset import PreparedPairs

    conditions = {row["condition"] for row in read_manifest(small_dataset).rows}
    condition = sorted(conditions)[0]
    out = tmp_path / "held"
    prepare_dataset(small_dataset, out, size=32, hold_back={condition: 0}, workers=1, progress=False)
    splits = read_splits(out / "splits.csv")
    rows = read_manifest(out / "manifest.csv").rows
    reserve = {row["case_id"] for row in rows if row["split"] == "reserve"}
    assert reserve and all(row["condition"] == condition for row in rows if row["case_id"] in reserve)
    assert all(splits[case] == "reserve" for case in reserve)
    train_cases = {row["case_id"] for row in rows if row["split"] == "train"}
    assert not train_cases & reserve
    assert len(PreparedPairs(out, "train", size=32)) == sum(row["split"] == "train" for row in rows)
