"""A small world for the classifier tests: phantom photos, their case split, a generator trained for a
few steps on the train split, and synthetic images of one condition with their provenance.

Test modules import the `world` fixture; it is built once per session (in the session's base temporary
folder) whichever module asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dermgan.data.phantom import make_phantom
from dermgan.data.prepare import prepare_dataset

FAST = (
    "data.size=32",
    "train.epochs=1",
    "train.batch_size=8",
    "train.num_workers=0",
    "train.log_every=1",
    "model.arch=mobilenet_v3_small",
)
"""A classifier small enough to train for an epoch in a second or two."""
GAN = ("data.size=32", "model.ngf=8", "model.ndf=8", "train.num_workers=0", "train.max_steps=2")
"""A generator trained for two steps: its images are noise, but they carry real provenance."""


@dataclass(frozen=True)
class World:
    manifest: Path
    prepared: Path
    generator: Path
    synthetic: Path
    cache: Path

    def overrides(self, *more: str) -> tuple[str, ...]:
        return (*FAST, f"data.cache={self.cache}", *more)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from dermgan.generation.generate import generate, make_plan
    from dermgan.generation.synthesize import Synthesizer
    from dermgan.training.trainer import train

    root = tmp_path_factory.getbasetemp() / "classify-world"
    if not (root / "built").exists():
        make_phantom(root / "photos", n=60, seed=11, size_range=(64, 96), workers=1, progress=False)
        split = (0.5, 0.2, 0.3)
        prepare_dataset(
            root / "photos" / "manifest.csv",
            root / "prepared",
            size=32,
            split=split,
            workers=1,
            progress=False,
        )
        train(root / "prepared", root / "gan", overrides=GAN, progress=False)
        synthesizer = Synthesizer(root / "gan")
        plan = make_plan(synthesizer, n=12, conditions=synthesizer.codebook.conditions[:1])
        generate(root / "gan", root / "synthetic", plan, seed=1, progress=False, synthesizer=synthesizer)
        (root / "built").touch()
    return World(
        manifest=root / "photos" / "manifest.csv",
        prepared=root / "prepared",
        generator=root / "gan",
        synthetic=root / "synthetic" / "manifest.csv",
        cache=root / "cache",
    )
