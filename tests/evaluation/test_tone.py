"""Skin-tone fidelity: ITA of known colours, band accuracy and ITA error on images drawn with known tones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from dermgan.conditions import fitzpatrick_from_ita
from dermgan.data.manifest import write_manifest
from dermgan.data.skin import estimate_ita, to_lab
from dermgan.evaluation.image_sets import ImageSet
from dermgan.evaluation.tone import evaluate_tone, set_itas

# sRGB -> CIELAB (L*, a*, b*) by the sRGB (D65) -> XYZ -> CIELAB formulas, and ITA = atan2(L* - 50, b*):
# one skin colour near the middle of each Fitzpatrick type's ITA band.
TONES = {
    1: ((245, 215, 195), (87.95, 7.34, 13.69), 70.16),
    2: ((226, 178, 146), (76.12, 13.10, 23.02), 48.61),
    3: ((210, 158, 122), (69.16, 14.74, 26.32), 36.05),
    4: ((196, 140, 104), (62.92, 16.98, 27.65), 25.05),
    5: ((180, 125, 90), (57.18, 17.26, 27.59), 14.59),
    6: ((141, 85, 54), (41.89, 20.08, 27.70), -16.33),
}
LESION_RGB = (120, 75, 50)
SIZE = 32
BOX = (4, 4, 28, 28)
"""A skin-hued lesion over more than half the image: a median over all skin pixels would be its colour."""


def draw(path: Path, skin_type: int) -> str:
    """A photo in the skin colour of `skin_type` with a dark lesion filling BOX."""
    pixels = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    pixels[:] = TONES[skin_type][0]
    x0, y0, x1, y1 = BOX
    pixels[y0:y1, x0:x1] = LESION_RGB
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return f"images/{path.name}"


def row(image: str, skin_type: str, **extra: str) -> dict[str, str]:
    return {
        "image": image,
        "condition": "melanoma",
        "skin_type": skin_type,
        "boxes": json.dumps([BOX]),
    } | extra


@pytest.mark.parametrize("skin_type", sorted(TONES))
def test_lab_and_ita_of_known_skin_colours(skin_type: int):
    rgb, lab, ita = TONES[skin_type]
    assert to_lab(np.array([[rgb]], dtype=np.uint8))[0, 0] == pytest.approx(lab, abs=0.02)
    assert fitzpatrick_from_ita(ita) == skin_type


def test_white_is_lightness_100_and_not_skin(tmp_path: Path):
    assert to_lab(np.full((1, 1, 3), 255, dtype=np.uint8))[0, 0] == pytest.approx((100, 0, 0), abs=0.01)
    Image.new("RGB", (8, 8), (255, 255, 255)).save(tmp_path / "white.png")
    assert set_itas(ImageSet("white", [tmp_path / "white.png"]), "test", progress=False) == [None]


def test_ita_comes_from_the_skin_outside_the_boxes(tmp_path: Path):
    paths = [tmp_path / "images" / f"{t}.png" for t in TONES]
    rows = [row(draw(path, t), str(t)) for path, t in zip(paths, TONES, strict=True)]
    itas = set_itas(ImageSet("drawn", paths, rows), "test", progress=False)
    assert itas == pytest.approx([ita for _, _, ita in TONES.values()], abs=0.02)


@pytest.fixture
def real_and_synthetic(tmp_path: Path) -> tuple[Path, Path]:
    """A prepared-like real set (one crop per type; type 3's crop in val) and a synthetic set whose
    images are drawn in known tones: in band and paired, out of band and paired, unpaired, a range."""
    real_rows = [
        row(
            draw(tmp_path / "real" / "images" / f"{t}.png", t),
            str(t),
            case_id=f"case-{t}",
            source_image=f"../photos/{t}.jpg",
            split="val" if t == 3 else "test",
            source="real",
        )
        for t in TONES
    ]
    real_rows.append(
        row(
            draw(tmp_path / "real" / "images" / "unknown.png", 2),
            "",
            case_id="case-u",
            split="test",
            source="real",
        )
    )
    drawn = [  # requested type, drawn type, case its map came from
        ("1", 1, "case-1"),
        ("3", 4, "case-3"),
        ("6", 6, "case-2"),
        ("1-2", 2, ""),
    ]
    synthetic_rows = [
        row(
            draw(tmp_path / "synthetic" / "images" / f"{index}.png", drawn_type),
            requested,
            map_source_case=case,
            map_source_image=f"../photos/{case.removeprefix('case-')}.jpg" if case else "",
            split="train",
            source="synthetic",
        )
        for index, (requested, drawn_type, case) in enumerate(drawn)
    ]
    write_manifest(tmp_path / "real" / "manifest.csv", real_rows)
    write_manifest(tmp_path / "synthetic" / "manifest.csv", synthetic_rows)
    return tmp_path / "real", tmp_path / "synthetic"


def test_band_accuracy_and_ita_error_against_the_crops_of_the_same_photo(real_and_synthetic, tmp_path: Path):
    real, synthetic = real_and_synthetic
    report = evaluate_tone(real, synthetic, out=tmp_path / "out", split="test", progress=False)
    real_set, synthetic_set = report.sets
    assert [s.label for s in report.sets] == ["real", "synthetic"]
    real_types = [group.skin_type for group in real_set.by_skin_type]
    assert real_types == ["1", "2", "4", "5", "6", "unknown"]  # type 3's crop is in val
    assert real_set.overall.band_accuracy == 1.0 and real_set.by_skin_type[-1].band_accuracy is None
    assert real_set.spearman.rho == pytest.approx(-1.0)
    overall = synthetic_set.overall
    assert overall.band_accuracy == pytest.approx(3 / 4)
    assert (overall.n_paired, overall.ita_error) == (2, pytest.approx((0 + 36.05 - 25.05) / 2, abs=0.05))
    groups = {group.skin_type: group for group in synthetic_set.by_skin_type}
    assert groups["3"].band_accuracy == 0.0 and groups["3"].ita_error == pytest.approx(11.0, abs=0.05)
    assert groups["6"].n_paired == 0 and groups["6"].band_accuracy == 1.0
    assert groups["1-2"].band == (41.0, 90.0) and groups["1-2"].band_accuracy == 1.0
    assert groups["1"].ita.median == pytest.approx(70.16, abs=0.02)
    saved = json.loads((tmp_path / "out" / "tone.json").read_text())
    assert saved == report.model_dump(mode="json")
    assert Image.open(tmp_path / "out" / "tone.png").size[0] > 400


def test_cli_leads_with_band_accuracy_and_prints_json_last(monkeypatch, capsys, real_and_synthetic, tmp_path):
    real, synthetic = real_and_synthetic
    out = tmp_path / "out"
    options = ["--out", out, "--split", "test", "--json", "--no-progress"]
    code, stdout, _ = run_cli(monkeypatch, capsys, "eval", "tone", real, synthetic, *options)
    assert code == 0
    assert stdout.startswith("Band accuracy and ITA error come first")
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result == json.loads((out / "tone.json").read_text())
    assert result["sets"][1]["overall"]["band_accuracy"] == 0.75


def test_cli_bad_input_is_one_clear_error(monkeypatch, capsys, real_and_synthetic, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "eval", "tone", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert code == 1 and "error: " in err and "nowhere is neither an image folder nor a manifest" in err
    real, _ = real_and_synthetic
    manifest = (real / "manifest.csv").read_text().replace(",5,", ",7,")
    (real / "manifest.csv").write_text(manifest)
    code, _, err = run_cli(
        monkeypatch, capsys, "eval", "tone", real, "--out", tmp_path / "o", "--no-progress"
    )
    assert code == 1 and "skin type '7'" in err and "Traceback" not in err


def test_a_real_photo_of_light_skin_lands_in_the_light_half_of_the_scale():
    """A real consumer-camera photo of light skin with hair: its ITA falls in the bands of types I to III."""
    photo = Path(__file__).parents[1] / "fixtures" / "clinical_photo" / "light_skin_with_hair.jpg"
    ita = estimate_ita(np.asarray(Image.open(photo).convert("RGB")))
    assert ita is not None and fitzpatrick_from_ita(ita) in (1, 2, 3)
