"""Importers: each public layout, with its real column headers, becomes the expected manifest rows."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dermgan.data.images import load_rgb
from dermgan.data.importers import IMPORTERS, import_dataset
from dermgan.data.manifest import parse_boxes, read_manifest
from dermgan.errors import UserError

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXIF_ORIENTATION = 0x0112

FITZPATRICK_HEADER = (
    "md5hash,fitzpatrick_scale,fitzpatrick_centaur,label,nine_partition_label,three_partition_label,qc,url,"
    "url_alphanum"
)
DDI_HEADER = ",DDI_ID,DDI_file,skin_tone,malignant,disease"
PAD_HEADER = (
    "patient_id,lesion_id,smoke,drink,background_father,background_mother,age,pesticide,gender,"
    "skin_cancer_history,cancer_history,has_piped_water,has_sewage_system,fitspatrick,region,diameter_1,"
    "diameter_2,diagnostic,itch,grew,hurt,changed,bleed,elevation,img_id,biopsed"
)
SCIN_CASES_HEADER = (
    "case_id,age_group,sex_at_birth,fitzpatrick_skin_type,image_1_path,image_2_path,image_3_path,"
    "image_1_shot_type,image_2_shot_type,image_3_shot_type"
)
SCIN_LABELS_HEADER = (
    "case_id,dermatologist_skin_condition_on_label_name,weighted_skin_condition_label,"
    "dermatologist_fitzpatrick_skin_type_label_1,dermatologist_fitzpatrick_skin_type_label_2,"
    "dermatologist_fitzpatrick_skin_type_label_3,monk_skin_tone_label_us,monk_skin_tone_label_india"
)
ISIC_GROUND_TRUTH_HEADER = "image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK"


def write_image(path: Path, size: tuple[int, int] = (32, 24), orientation: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    Image.new("RGB", size, (190, 140, 110)).save(path, exif=exif)
    return path


def write_csv(path: Path, header: str, rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(header + "\n")
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def write_coco(path: Path, images: list[dict], annotations: list[tuple], categories: list[str]) -> Path:
    """annotations: (image index, category name, [x, y, w, h])."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "images": [{"id": index + 10, **image} for index, image in enumerate(images)],
        "annotations": [
            {"id": n, "image_id": image + 10, "category_id": categories.index(name) + 1, "bbox": bbox}
            for n, (image, name, bbox) in enumerate(annotations)
        ],
        "categories": [{"id": n + 1, "name": name} for n, name in enumerate(categories)],
    }
    path.write_text(json.dumps(payload))
    return path


def imported(summary) -> dict[str, dict[str, str]]:
    """Manifest rows by the image's file name."""
    return {Path(row["image"]).name: row for row in read_manifest(summary.manifest).rows}


def boxes(row: dict[str, str]) -> list[list[float]]:
    return [list(box) for box in parse_boxes(row["boxes"])]


def test_every_format_is_registered():
    assert set(IMPORTERS) == {"coco", "isic", "fitzpatrick17k", "scin", "pad-ufes-20", "ddi", "manifest"}


def test_fitzpatrick17k_imports_the_images_present_and_counts_every_row(tmp_path):
    src = tmp_path / "fitz"
    shutil.copytree(FIXTURES / "fitzpatrick17k", src)
    present = {
        "5e82a45bc5d78bd24ae9202d194423f8",
        "9bc21ae9502b720f604907ff56dbc4c7",
        "d1fb87ee7ee50f997cd6497dd90d6bbb",
    }
    for md5 in present:
        write_image(src / "images" / f"{md5}.jpg")
    summary = import_dataset("fitzpatrick17k", src, tmp_path / "out", progress=False)

    rows = imported(summary)
    assert set(rows) == {f"{md5}.jpg" for md5 in present}
    first = rows["5e82a45bc5d78bd24ae9202d194423f8.jpg"]
    assert first["image"] == "images/5e82a45bc5d78bd24ae9202d194423f8.jpg"
    assert (first["condition"], first["skin_type"], first["case_id"]) == (
        "drug induced pigmentary changes",
        "3",
        "5e82a45bc5d78bd24ae9202d194423f8",
    )
    assert first["nine_partition_label"] == "inflammatory"
    assert first["three_partition_label"] == "non-neoplastic"
    assert first["url"].endswith("minocycline-pigmentation1.jpg")
    assert (first["dataset"], first["license"], first["source"]) == (
        "fitzpatrick17k",
        "CC BY-NC-SA 3.0 (Fitzpatrick17k)",
        "real",
    )
    assert rows["9bc21ae9502b720f604907ff56dbc4c7.jpg"]["skin_type"] == ""  # -1 = unknown
    assert rows["d1fb87ee7ee50f997cd6497dd90d6bbb.jpg"]["qc"] == "1 Diagnostic"
    assert all(row["boxes"] == "" for row in rows.values())

    assert (summary.n_listed, summary.n_images, summary.n_missing_files) == (30, 3, 27)
    assert summary.n_without_boxes == 3
    assert len(summary.skipped) == 27
    assert all("not found" in skipped.reason for skipped in summary.skipped)
    assert summary.n_conditions == 22
    assert summary.skin_type_counts == {"1": 5, "2": 9, "3": 2, "4": 5, "5": 3, "6": 2, "unknown": 4}


@pytest.mark.parametrize("skin_type_column", ["fitzpatrick_scale", "fitzpatrick"])
def test_fitzpatrick17k_metadata_alone_reports_the_counts(tmp_path, skin_type_column):
    text = (FIXTURES / "fitzpatrick17k" / "fitzpatrick17k.csv").read_text()
    csv_path = tmp_path / "fitzpatrick17k.csv"
    csv_path.write_text(text.replace("fitzpatrick_scale,", f"{skin_type_column},", 1))

    summary = import_dataset("fitzpatrick17k", csv_path, tmp_path / "out", progress=False)

    assert (summary.n_listed, summary.n_images, summary.n_missing_files) == (30, 0, 30)
    assert sum(summary.label_counts.values()) == 30
    assert summary.label_counts["melanoma"] == 2
    assert summary.skin_type_counts["unknown"] == 4
    assert any("none of the 30 images" in warning for warning in summary.warnings)
    assert read_manifest(summary.manifest).rows == []


def test_ddi_maps_paired_tones_to_ranges_and_joins_coco_boxes(tmp_path):
    src = tmp_path / "ddi"
    write_csv(
        src / "ddi_metadata.csv",
        DDI_HEADER,
        [
            [0, 1, "000001.png", 12, "True", "melanoma-in-situ"],
            [1, 2, "000002.png", 34, "False", "seborrheic-keratosis"],
            [2, 3, "000003.png", 56, "False", "verruca-vulgaris"],
        ],
    )
    for name in ("000001.png", "000002.png", "000003.png"):
        write_image(src / name, size=(64, 48))
    coco = write_coco(
        tmp_path / "boxes.json",
        [{"file_name": "upload/000001.png", "width": 64, "height": 48}, {"file_name": "elsewhere.png"}],
        [(0, "lesion", [10, 5, 20, 10]), (1, "lesion", [1, 1, 2, 2])],
        ["lesion"],
    )

    summary = import_dataset("ddi", src, tmp_path / "out", boxes=str(coco), progress=False)

    rows = imported(summary)
    assert [rows[f"00000{n}.png"]["skin_type"] for n in (1, 2, 3)] == ["1-2", "3-4", "5-6"]
    assert (rows["000001.png"]["condition"], rows["000001.png"]["malignant"]) == ("melanoma-in-situ", "True")
    assert boxes(rows["000001.png"]) == [[10, 5, 30, 15]]
    assert rows["000002.png"]["boxes"] == rows["000003.png"]["boxes"] == ""
    assert summary.n_without_boxes == 2
    assert any("1 annotated images" in warning for warning in summary.warnings)
    assert summary.license == "DDI Data Use Agreement (Stanford AIMI)"


def test_pad_ufes_20_reads_its_spelling_of_skin_type_and_image_parts(tmp_path):
    src = tmp_path / "pad"
    patient = ["False", "True", "POMERANIA", "POMERANIA", 55, "False", "FEMALE", *["True"] * 4]
    symptoms = ["False", "True", "False", "True", "False", "True"]
    write_csv(
        src / "metadata.csv",
        PAD_HEADER,
        [
            ["PAT_1", 11, *patient, "3.0", "ARM", "6.0", "5.0", "NEV", *symptoms, "PAT_1_11_100.png", "True"],
            ["PAT_2", "", *patient, "", "FACE", "", "", "BCC", *symptoms, "PAT_2_22_200.png", "False"],
            ["PAT_3", 33, *patient, "6.0", "NOSE", "", "", "SEK", *symptoms, "PAT_3_33_300.png", "True"],
        ],
    )
    write_image(src / "images" / "imgs_part_1" / "PAT_1_11_100.png")
    write_image(src / "images" / "imgs_part_2" / "PAT_2_22_200.png")

    summary = import_dataset("pad-ufes-20", src, tmp_path / "out", progress=False)

    rows = imported(summary)
    nevus, carcinoma = rows["PAT_1_11_100.png"], rows["PAT_2_22_200.png"]
    assert nevus["image"] == "images/imgs_part_1/PAT_1_11_100.png"
    assert (nevus["condition"], nevus["skin_type"], nevus["case_id"]) == ("melanocytic nevus", "3", "11")
    kept = ("region", "diameter_1", "diameter_2", "biopsed", "patient_id")
    assert [nevus[column] for column in kept] == ["ARM", "6.0", "5.0", "True", "PAT_1"]
    assert (carcinoma["condition"], carcinoma["skin_type"], carcinoma["case_id"]) == (
        "basal cell carcinoma",
        "",
        "PAT_2",
    )
    assert summary.n_missing_files == 1
    assert summary.skipped[0].item == "PAT_3_33_300.png"
    assert summary.skin_type_counts == {"3": 1, "6": 1, "unknown": 1}
    assert summary.label_counts["seborrheic keratosis"] == 1


def test_scin_takes_the_heaviest_label_and_the_graders_median_type(tmp_path):
    src = tmp_path / "scin"
    images = [f"dataset/images/{name}.png" for name in "abcdef"]
    write_csv(
        src / "scin_cases.csv",
        SCIN_CASES_HEADER,
        [
            ["c1", "AGE_30_TO_39", "FEMALE", "FST1", *images[0:2], "", "CLOSE_UP", "AT_AN_ANGLE", ""],
            ["c2", "AGE_18_TO_29", "MALE", "FST5", images[2], "", "", "CLOSE_UP", "", ""],
            ["c3", "AGE_18_TO_29", "MALE", "NONE_SELECTED", images[3], "", "", "CLOSE_UP", "", ""],
            ["c4", "AGE_40_TO_49", "FEMALE", "FST2", images[4], "", "", "CLOSE_UP", "", ""],
            ["c5", "AGE_40_TO_49", "FEMALE", "FST2", images[5], "", "", "CLOSE_UP", "", ""],
        ],
    )
    graded = ["FST2", "FST3", ""]  # the dermatologists' types: median 2.5
    write_csv(
        src / "scin_labels.csv",
        SCIN_LABELS_HEADER,
        [
            ["c1", "['Eczema', 'Psoriasis']", "{'Eczema': 0.4, 'Psoriasis': 0.6}", *graded, "3.0", 4],
            ["c2", "['Tinea', 'Eczema']", "{'Tinea': 0.5, 'Eczema': 0.5}", "", "", "", "", ""],
            ["c3", "['Urticaria']", "{'Urticaria': 1.0}", "", "", "", "", ""],
            ["c4", "[]", "", "", "", "", "", ""],
        ],
    )
    for name in "abcde":
        write_image(src / "images" / f"{name}.png")

    summary = import_dataset("scin", src, tmp_path / "out", progress=False)

    rows = imported(summary)
    assert set(rows) == {"a.png", "b.png", "c.png", "d.png"}
    first, second = rows["a.png"], rows["b.png"]
    assert (first["condition"], first["skin_type"], first["case_id"]) == ("Psoriasis", "2-3", "c1")
    assert (first["monk_tone_us"], first["monk_tone_india"]) == ("3", "4")
    assert (first["shot_type"], second["shot_type"]) == ("CLOSE_UP", "AT_AN_ANGLE")
    assert second["case_id"] == "c1"
    assert (rows["c.png"]["condition"], rows["c.png"]["skin_type"]) == ("Eczema", "5")  # tie; self-reported
    assert rows["d.png"]["skin_type"] == ""  # NONE_SELECTED
    assert sorted(skipped.item for skipped in summary.skipped) == ["case c4", "case c5"]
    assert summary.n_missing_files == 0
    assert summary.license == "SCIN Data Use License"


def draw_mask(path: Path) -> Path:
    mask = np.zeros((80, 100), dtype=np.uint8)
    mask[10:30, 5:25] = 255  # rows 10-29, columns 5-24
    mask[50:60, 60:90] = 255
    mask[50:52, 59] = 255  # touches the second region: part of it
    mask[49, 90] = 255  # touches it diagonally: part of it too
    mask[70:72, 2:4] = 255  # a 4-pixel speck (below 0.1% of 8000 pixels)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(path)
    return path


def test_isic_gives_one_box_per_mask_region_and_the_ground_truth_condition(tmp_path):
    src = tmp_path / "isic"
    write_image(src / "ISIC2018_Task1-2_Training_Input" / "ISIC_0000001.jpg", size=(100, 80))
    write_image(src / "ISIC2018_Task1-2_Training_Input" / "ISIC_0000002.jpg", size=(100, 80))
    draw_mask(src / "ISIC2018_Task1_Training_GroundTruth" / "ISIC_0000001_segmentation.png")
    draw_mask(src / "ISIC2018_Task1_Training_GroundTruth" / "ISIC_0000003_segmentation.png")
    write_csv(
        src / "ISIC_2019_Training_GroundTruth.csv",
        ISIC_GROUND_TRUTH_HEADER,
        [["ISIC_0000001", *"100000000"], ["ISIC_0000002", 0.0, 1.0, *[0.0] * 7]],
    )
    skin_types = write_csv(tmp_path / "types.csv", "image,skin_type", [["ISIC_0000001.jpg", 3], ["x.jpg", 2]])

    summary = import_dataset("isic", src, tmp_path / "out", skin_types=skin_types, progress=False)

    rows = imported(summary)
    melanoma, nevus = rows["ISIC_0000001.jpg"], rows["ISIC_0000002.jpg"]
    assert boxes(melanoma) == [[5, 10, 25, 30], [59, 49, 91, 60]]
    assert (melanoma["condition"], melanoma["skin_type"]) == ("melanoma", "3")
    assert melanoma["case_id"] == "ISIC_0000001"
    assert (nevus["condition"], nevus["skin_type"], nevus["boxes"]) == ("melanocytic nevus", "", "")
    assert melanoma["license"] == "CC BY-NC 4.0 (ISIC)"
    assert (summary.n_images, summary.n_missing_files, summary.n_without_boxes) == (2, 1, 1)
    assert summary.skipped[0].item == "ISIC_0000003.jpg"
    assert any("1 file names" in warning for warning in summary.warnings)

    (src / "ISIC_2019_Training_GroundTruth.csv").unlink()
    without_truth = import_dataset("isic", src, tmp_path / "out2", progress=False)
    assert {row["condition"] for row in imported(without_truth).values()} == {"lesion"}


def test_coco_converts_and_clips_boxes_and_keeps_the_largest_category(tmp_path):
    src = tmp_path / "labelled"
    write_image(src / "images" / "a.jpg", size=(100, 50))
    write_image(src / "images" / "b.jpg", size=(100, 50))
    size = {"width": 100, "height": 50}
    json_path = write_coco(
        src / "annotations.json",
        [
            {"file_name": "a.jpg", **size, "attributes": {"skin_type": 4, "case_id": "k"}},
            {"file_name": "b.jpg", **size, "fitzpatrick": "2"},
            {"file_name": "c.jpg", **size},
            {"file_name": "d.jpg", **size},
        ],
        [
            (0, "melanoma", [10, 10, 20, 20]),  # 400 px
            (0, "nevus", [50, 10, 10, 10]),  # 100 px
            (0, "nevus", [70, 20, 40, 40]),  # clipped to [70, 20, 100, 50]: 900 px
            (1, "melanoma", [1.5, 2, 3, 4]),
            (2, "melanoma", [0, 0, 5, 5]),
        ],
        ["melanoma", "nevus"],
    )

    summary = import_dataset("coco", json_path, tmp_path / "out", progress=False)

    rows = imported(summary)
    a, b = rows["a.jpg"], rows["b.jpg"]
    assert (a["condition"], a["skin_type"], a["case_id"]) == ("nevus", "4", "k")
    assert boxes(a) == [[50, 10, 60, 20], [70, 20, 100, 50]]
    assert (b["condition"], b["skin_type"], b["case_id"]) == ("melanoma", "2", "b")
    assert boxes(b) == [[1.5, 2, 4.5, 6]]
    assert summary.n_missing_files == 1
    assert {skipped.item: skipped.reason for skipped in summary.skipped}["d.jpg"].startswith("no usable box")
    assert any("1 images had boxes of several categories" in w and "1 boxes" in w for w in summary.warnings)


def test_coco_malformed_json_is_a_user_error(tmp_path):
    json_path = tmp_path / "annotations.json"
    json_path.write_text('{"images": [')
    with pytest.raises(UserError, match=r"annotations\.json is not valid JSON \(line 1"):
        import_dataset("coco", json_path, tmp_path / "out", progress=False)


def test_manifest_rehomes_images_keeps_columns_and_adds_whole_image_boxes(tmp_path):
    src = tmp_path / "mine"
    write_image(src / "a" / "photo.jpg", size=(40, 20), orientation=6)  # displayed 20 wide, 40 high
    write_image(src / "b" / "photo.jpg", size=(30, 10))
    write_image(src / "c.png", size=(30, 10))
    manifest = write_csv(
        src / "manifest.csv",
        "image,condition,skin_type,boxes,case_id,split,source,license,monk_tone_us",
        [
            ["a/photo.jpg", "eczema", "1-2", "", "k1", "train", "real", "CC BY 4.0", "3"],
            ["b/photo.jpg", "eczema", "", "", "k2", "test", "synthetic", "", ""],
            ["c.png", "psoriasis", "5", "[[1,2,3,4]]", "k3", "", "real", "", ""],
            ["gone.png", "psoriasis", "", "", "k4", "", "real", "", ""],
            ["c.png", "", "", "", "k5", "", "real", "", ""],
        ],
    )

    summary = import_dataset("manifest", manifest, tmp_path / "out", boxes="whole-image", progress=False)

    rows = {row["image"]: row for row in read_manifest(summary.manifest).rows}
    assert set(rows) == {"images/a/photo.jpg", "images/b/photo.jpg", "images/c.png"}
    rotated = rows["images/a/photo.jpg"]
    assert boxes(rotated) == [[0, 0, 20, 40]]
    assert load_rgb(tmp_path / "out" / "images" / "a" / "photo.jpg").size == (20, 40)
    assert (rotated["skin_type"], rotated["split"], rotated["license"], rotated["monk_tone_us"]) == (
        "1-2",
        "train",
        "CC BY 4.0",
        "3",
    )
    assert rotated["dataset"] == "manifest"
    assert boxes(rows["images/b/photo.jpg"]) == [[0, 0, 30, 10]]
    assert rows["images/b/photo.jpg"]["source"] == "synthetic"
    assert boxes(rows["images/c.png"]) == [[1, 2, 3, 4]]
    assert (summary.n_missing_files, summary.n_without_boxes) == (1, 0)
    assert {skipped.item: skipped.reason for skipped in summary.skipped} == {
        "gone.png": f"image file not found under {src}",
        "c.png": "no condition label",
    }
    assert (tmp_path / "out" / "images" / "c.png").stat().st_ino == (src / "c.png").stat().st_ino


def test_images_are_copied_when_linking_is_off(tmp_path):
    src = tmp_path / "ddi"
    write_csv(src / "ddi_metadata.csv", DDI_HEADER, [[0, 1, "000001.png", 56, "False", "keloid"]])
    original = write_image(src / "000001.png")

    import_dataset("ddi", src, tmp_path / "out", link=False, progress=False)

    copy = tmp_path / "out" / "images" / "000001.png"
    assert copy.stat().st_ino != original.stat().st_ino
    assert copy.read_bytes() == original.read_bytes()


def test_an_output_folder_inside_src_is_never_searched_for_images(tmp_path):
    src = tmp_path / "ddi"
    write_csv(src / "ddi_metadata.csv", DDI_HEADER, [[0, 1, "000001.png", 12, "False", "keloid"]])
    write_image(src / "000001.png")
    import_dataset("ddi", src, src / "imported", progress=False)
    (src / "000001.png").unlink()

    summary = import_dataset("ddi", src, src / "imported", progress=False)

    assert (summary.n_images, summary.n_missing_files) == (0, 1)


@pytest.mark.parametrize(
    ("format", "metadata", "header", "column"),
    [
        ("fitzpatrick17k", "fitzpatrick17k.csv", FITZPATRICK_HEADER.replace(",label,", ",dx,"), "label"),
        ("ddi", "ddi_metadata.csv", DDI_HEADER.replace("disease", "diagnosis"), "disease"),
        ("pad-ufes-20", "metadata.csv", PAD_HEADER.replace("fitspatrick", "fitzpatrick"), "fitspatrick"),
        ("manifest", "manifest.csv", "image,label", "condition"),
    ],
)
def test_a_missing_required_column_is_a_user_error_naming_it(tmp_path, format, metadata, header, column):
    src = tmp_path / "src"
    write_csv(src / metadata, header, [["x"] * len(header.split(","))])
    out = tmp_path / "out"
    with pytest.raises(UserError, match=rf"{metadata} has no column {column}"):
        import_dataset(format, src, out, progress=False)
    assert not (out / "manifest.csv").exists()


def test_scin_labels_without_the_weighted_label_are_a_user_error(tmp_path):
    write_csv(tmp_path / "scin_cases.csv", SCIN_CASES_HEADER, [])
    write_csv(tmp_path / "scin_labels.csv", SCIN_LABELS_HEADER.replace("weighted_", "w_"), [])
    with pytest.raises(UserError, match=r"scin_labels\.csv has no column weighted_skin_condition_label"):
        import_dataset("scin", tmp_path, tmp_path / "out", progress=False)


def test_unknown_format_and_missing_source_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="unknown dataset format 'isic2020'; choose one of coco, isic"):
        import_dataset("isic2020", tmp_path, tmp_path / "out")
    with pytest.raises(UserError, match="nowhere does not exist"):
        import_dataset("ddi", tmp_path / "nowhere", tmp_path / "out")
