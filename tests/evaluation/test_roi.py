"""ROI contrast and the box-edge artifact score, on noisy skin photos drawn with known lesions and halos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from dermgan.data.boxes import boxes_mask
from dermgan.data.manifest import read_manifest, write_manifest
from dermgan.data.skin import to_lab
from dermgan.errors import UserError
from dermgan.evaluation.roi import box_edge_score, evaluate_roi, load_evaluation_sets, measure_roi

SKIN_RGB = (205, 155, 120)
LESION_RGB = (95, 55, 45)
SIZE = 64
BOX = (16, 20, 44, 48)
ROI = boxes_mask([BOX], SIZE, SIZE)


def photo(seed: int, lesion_rgb: tuple[int, int, int] | None = LESION_RGB, halo: int = 0) -> np.ndarray:
    """Skin with pixel noise, a round lesion inside BOX (its edge does not follow the box) and, with
    `halo`, a faint square: a 2 px ring straddling the box outline made `halo` levels lighter."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(SKIN_RGB, dtype=np.float64) + rng.normal(0, 4, (SIZE, SIZE, 1))
    if lesion_rgb is not None:
        ys, xs = np.mgrid[:SIZE, :SIZE]
        centre_x, centre_y = (BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2
        inside = np.hypot(xs + 0.5 - centre_x, ys + 0.5 - centre_y) < 11
        pixels[inside] = np.asarray(lesion_rgb) + rng.normal(0, 4, (int(inside.sum()), 1))
    if halo:
        x0, y0, x1, y1 = BOX
        ring = boxes_mask([(x0 - 1, y0 - 1, x1 + 1, y1 + 1)], SIZE, SIZE) & ~boxes_mask(
            [(x0 + 1, y0 + 1, x1 - 1, y1 - 1)], SIZE, SIZE
        )
        pixels[ring] += halo
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def test_a_faint_square_on_the_box_outline_raises_the_edge_score():
    for seed in range(3):
        plain = box_edge_score(to_lab(photo(seed)), ROI)
        haloed = box_edge_score(to_lab(photo(seed, halo=8)), ROI)
        assert 0.5 < plain < 1.4, plain
        assert haloed > 1.6 * plain, (plain, haloed)


def test_a_lesion_that_stands_out_has_a_higher_roi_contrast():
    dark = measure_roi(photo(0), ROI)
    faint = measure_roi(photo(0, lesion_rgb=(195, 145, 112)), ROI)
    none = measure_roi(photo(0, lesion_rgb=None), ROI)
    assert dark.contrast > 2 * faint.contrast > 2 * none.contrast * 0.9
    assert 0.8 < none.contrast < 1.25
    assert dark.delta_e_inside > faint.delta_e_inside > none.delta_e_inside
    assert measure_roi(photo(0), np.zeros_like(ROI)) is None


@pytest.fixture
def real_and_synthetic(tmp_path: Path) -> tuple[Path, Path]:
    """Two conditions, four images each: real photos, and synthetic ones with a halo on the box."""
    for kind, halo in (("real", 0), ("synthetic", 8)):
        rows = []
        for index in range(8):
            name = f"images/{index}.png"
            (tmp_path / kind / "images").mkdir(parents=True, exist_ok=True)
            Image.fromarray(photo(index, halo=halo)).save(tmp_path / kind / name)
            condition = "melanoma" if index % 2 else "eczema"
            rows.append(
                {
                    "image": name,
                    "condition": condition,
                    "skin_type": "3",
                    "boxes": json.dumps([BOX]),
                    "source": kind,
                }
            )
        write_manifest(tmp_path / kind / "manifest.csv", rows)
    return tmp_path / "real", tmp_path / "synthetic"


def test_synthetic_halos_show_per_condition_against_real(real_and_synthetic, tmp_path: Path):
    report = evaluate_roi(*real_and_synthetic, out=tmp_path / "out", progress=False)
    real, synthetic = report.sets
    assert (real.label, synthetic.label) == ("real", "synthetic")
    assert [group.condition for group in synthetic.by_condition] == ["eczema", "melanoma"]
    for real_group, synthetic_group in zip(real.by_condition, synthetic.by_condition, strict=True):
        assert synthetic_group.n_images == synthetic_group.n_scored == 4
        assert synthetic_group.edge_score > 1.6 * real_group.edge_score
        assert real_group.contrast > 2
    assert json.loads((tmp_path / "out" / "roi.json").read_text()) == report.model_dump(mode="json")


def test_cli_prints_json_last_and_refuses_a_set_without_boxes(
    monkeypatch, capsys, real_and_synthetic, tmp_path
):
    real, synthetic = real_and_synthetic
    code, stdout, _ = run_cli(
        monkeypatch,
        capsys,
        "eval",
        "roi",
        real,
        synthetic,
        "--out",
        tmp_path / "out",
        "--json",
        "--no-progress",
    )
    assert code == 0 and "Edge score = median gradient energy on the box outline" in " ".join(stdout.split())
    assert json.loads(stdout.strip().splitlines()[-1]) == json.loads(
        (tmp_path / "out" / "roi.json").read_text()
    )
    code, _, err = run_cli(monkeypatch, capsys, "eval", "roi", real / "images", "--out", tmp_path / "out")
    assert code == 1 and "error: " in err and "has no boxes" in err and "Traceback" not in err


def test_a_held_out_split_with_synthetic_images_is_refused(real_and_synthetic, tmp_path: Path):
    real, _ = real_and_synthetic
    rows = read_manifest(real / "manifest.csv").rows
    for index, row in enumerate(rows):
        row["split"] = "test" if index < 4 else "train"
        row["source"] = "synthetic" if index in (1, 6) else "real"
    write_manifest(real / "manifest.csv", rows)
    with pytest.raises(UserError, match=r"1 synthetic image\(s\) in the test split \(1.png\)"):
        load_evaluation_sets([real], split="test")
    assert len(load_evaluation_sets([real], split="train")[0]) == 4
