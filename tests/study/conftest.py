"""Study fixtures: a real and a synthetic manifest of tiny photos, and studies built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from conftest import make_photo
from dermgan.data.manifest import write_manifest
from dermgan.study.create import create_study

CONDITIONS = ("acne", "eczema", "melanoma")
PER_CONDITION = 30
"""Images per condition and source: enough for an 80 + 80 Turing test and a 16-question relevance test."""


def _real_photo(path: Path, index: int) -> None:
    """A JPEG of camera size with EXIF, as a clinic's photo would be."""
    make_photo(path.with_suffix(".png"), width=90 + index, height=70, lesion=(10 + index % 40, 10, 50, 40))
    exif = Image.Exif()
    exif[0x010F] = "ClinicCam"
    with Image.open(path.with_suffix(".png")) as photo:
        photo.save(path, format="JPEG", quality=85, exif=exif)
    path.with_suffix(".png").unlink()


def _synthetic_image(path: Path, index: int) -> None:
    """A small PNG with a text chunk, as a generator's output with provenance notes might be."""
    make_photo(path, width=48, height=48, lesion=(8, 8, 20 + index % 20, 30))
    notes = PngImagePlugin.PngInfo()
    notes.add_text("generator", "dermgan")
    with Image.open(path) as image:
        image.load()
    image.save(path, pnginfo=notes)


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(real manifest, synthetic manifest), PER_CONDITION images of each condition in each."""
    root = tmp_path_factory.mktemp("study-data")
    real_rows, synthetic_rows = [], []
    for condition in CONDITIONS:
        for index in range(PER_CONDITION):
            real = f"photos/{condition}_{index:02d}.jpg"
            _real_photo(root / "real" / real, index)
            real_rows.append(
                {"image": real, "condition": condition, "skin_type": "3", "case_id": f"{condition}-{index}"}
            )
            synthetic = f"images/{condition}_{index:02d}.png"
            _synthetic_image(root / "synthetic" / synthetic, index)
            synthetic_rows.append(
                {
                    "image": synthetic,
                    "condition": condition,
                    "skin_type": "3",
                    "source": "synthetic",
                    "generator_sha256": "ab" * 32,
                    "seed": str(index),
                    "map_path": f"maps/{condition}_{index:02d}.png",
                    "map_source_image": "",
                }
            )
    return (
        write_manifest(root / "real" / "manifest.csv", real_rows),
        write_manifest(root / "synthetic" / "manifest.csv", synthetic_rows),
    )


@pytest.fixture(scope="session")
def built_studies(manifests, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 160-image Turing study and a 16-question relevance study, 3 participants each, made once."""
    root = tmp_path_factory.mktemp("studies")
    real, synthetic = manifests
    for kind in ("turing", "relevance"):
        create_study(real, synthetic, kind, root / f"{kind}.db", participants=3, image_size=32, seed=1)
    return {kind: root / f"{kind}.db" for kind in ("turing", "relevance")}


@pytest.fixture
def turing_db(built_studies, tmp_path: Path) -> Path:
    """A fresh copy of the Turing study for one test."""
    return Path(shutil.copy(built_studies["turing"], tmp_path / "turing.db"))


@pytest.fixture
def relevance_db(built_studies, tmp_path: Path) -> Path:
    return Path(shutil.copy(built_studies["relevance"], tmp_path / "relevance.db"))
