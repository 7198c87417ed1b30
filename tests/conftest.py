"""Shared test helpers: tiny photos and manifests made on the fly (tests never read ../shared)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dermgan.cli import main
from dermgan.data.manifest import write_manifest
from dermgan.data.phantom import make_phantom
from dermgan.data.prepare import prepare_dataset

SKIN_RGB = (205, 160, 130)
LESION_RGB = (90, 50, 40)
WALL_RGB = (40, 70, 200)


def make_photo(
    path: Path,
    width: int = 160,
    height: int = 120,
    lesion: tuple[int, int, int, int] | None = (60, 40, 90, 70),
    wall: int = 0,
) -> Path:
    """A flat skin-coloured photo with a dark lesion inside `lesion` and a blue wall strip `wall` px wide."""
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:] = SKIN_RGB
    if lesion:
        x0, y0, x1, y1 = lesion
        pixels[y0:y1, x0:x1] = LESION_RGB
    if wall:
        pixels[:, :wall] = WALL_RGB
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys, *args: object) -> tuple[int, str, str]:
    """`dermgan ARGS` in this process: (exit code, stdout, stderr with rich's line wrapping undone)."""
    monkeypatch.setattr(sys, "argv", ["dermgan", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, " ".join(captured.err.split())


def photo_rows(
    root: Path, *, photos_per_case: int = 2, source: str = "real", licence: str | None = "CC0-1.0"
) -> list[dict[str, str]]:
    """12 photos of 3 conditions and 6 skin types (2 photos each), `photos_per_case` photos to a case,
    written under `root`; the rows of their manifest (without a license column when `licence` is None)."""
    rows = []
    conditions = ["melanoma", "acne", "eczema"]
    for index in range(12):
        name = f"images/photo_{index:02d}.png"
        box = (20 + 3 * index, 15 + 2 * index, 60 + 3 * index, 50 + 2 * index)
        make_photo(root / name, lesion=box)
        rows.append(
            {
                "image": name,
                "condition": conditions[(index // 2) % 3],
                "skin_type": str(index // 2 + 1),
                "boxes": f"[[{box[0]},{box[1]},{box[2]},{box[3]}]]",
                "case_id": f"case_{index // photos_per_case}",
                "source": source,
                **({"license": licence} if licence is not None else {}),
            }
        )
    return rows


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """12 photos of 6 cases (2 each), 3 conditions, 6 skin types; returns the manifest path."""
    return write_manifest(tmp_path / "manifest.csv", photo_rows(tmp_path))


TINY = (
    "data.size=32",
    "model.ngf=8",
    "model.ndf=8",
    "train.batch_size=4",
    "train.num_workers=0",
    "train.log_every=1",
    "train.sample_every=1000",
)
"""Overrides of demo-cpu.yaml for a network small enough to step many times a second."""


@pytest.fixture(scope="session")
def phantom_32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 phantom photos prepared at 32 px, made once per session for the training tests."""
    root = tmp_path_factory.mktemp("phantom")
    make_phantom(root / "photos", n=300, seed=3, workers=2, progress=False)
    prepare_dataset(root / "photos" / "manifest.csv", root / "prepared", size=32, workers=2, progress=False)
    return root / "prepared"


@pytest.fixture(scope="session")
def tiny_run(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with a released 32 px generator trained for a few steps (not a good one)."""
    from dermgan.training.trainer import train

    run = tmp_path_factory.mktemp("tiny-run") / "run"
    train(phantom_32, run, overrides=(*TINY, "train.max_steps=20", "model.ngf=16"), progress=False)
    return run
