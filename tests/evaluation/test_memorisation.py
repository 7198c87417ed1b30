"""The memorisation check finds a synthetic image that copies a training image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fid_helpers import tiny_network, write_images
from PIL import Image

from conftest import run_cli
from dermgan.evaluation import memorisation as memorisation_module
from dermgan.evaluation.image_sets import ImageSet
from dermgan.evaluation.memorisation import check_memorisation


def test_an_exact_copy_is_found_and_shown(tmp_path: Path):
    real = write_images(tmp_path / "real", 60, seed=1)
    fake = write_images(tmp_path / "fake", 20, seed=2)
    shutil.copy(real[17], tmp_path / "fake" / "copied.png")
    fake_set = ImageSet("fake", [*fake, tmp_path / "fake" / "copied.png"])
    result = check_memorisation(
        ImageSet("real", real),
        fake_set,
        out=tmp_path / "out",
        network=tiny_network(),
        cache=tmp_path / "c",
        workers=0,
        progress=False,
        top=4,
    )
    assert result.n_near_copies == 1 and result.near_copy_share == 1 / 21
    first = result.closest[0]
    assert Path(first.synthetic).name == "copied.png" and Path(first.training) == real[17]
    assert first.distance < 1e-6 < result.copy_threshold
    assert result.fake_to_real_median > result.copy_threshold
    with Image.open(tmp_path / "out" / "memorisation.png") as sheet:
        assert sheet.size[1] > 4 * 128
    assert (tmp_path / "out" / "memorisation.json").exists()


def test_independent_images_are_not_copies(tmp_path: Path):
    real = write_images(tmp_path / "real", 60, seed=1)
    fake = write_images(tmp_path / "fake", 30, seed=3)
    result = check_memorisation(
        ImageSet("real", real),
        ImageSet("fake", fake),
        network=tiny_network(),
        cache=tmp_path / "c",
        workers=0,
        progress=False,
    )
    assert result.n_near_copies <= 1
    assert result.closest and result.closest[0].distance > 0


def test_the_command_flags_the_copy_and_prints_json_last(monkeypatch, capsys, tmp_path: Path):
    monkeypatch.setattr(memorisation_module, "inception_network", tiny_network)
    write_images(tmp_path / "real", 30, seed=1)
    write_images(tmp_path / "fake", 10, seed=2)
    shutil.copy(tmp_path / "real" / "image_0003.png", tmp_path / "fake" / "copied.png")
    out = tmp_path / "out"
    options = ["--out", out, "--cache", tmp_path / "c", "--workers", 0, "--no-progress", "--top", 3]
    sets = [tmp_path / "real", tmp_path / "fake"]
    code, stdout, _ = run_cli(monkeypatch, capsys, "eval", "memorisation", *sets, *options, "--json")
    assert code == 0
    assert "1 of 11 synthetic images (9.1%) are nearer a training image" in " ".join(stdout.split())
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result == json.loads((out / "memorisation.json").read_text()) and len(result["closest"]) == 3
    code, _, err = run_cli(
        monkeypatch, capsys, "eval", "memorisation", tmp_path / "real", tmp_path / "nowhere"
    )
    assert code == 1 and "nowhere" in err and "Traceback" not in err
