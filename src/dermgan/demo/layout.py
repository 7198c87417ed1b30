"""Where the demo's stages write, under one folder: the demo writes there and the report reads there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dermgan.evaluation.ablation import ABLATIONS, variant_key

DEMO_SETTINGS_FILE = "demo.json"
"""The demo's settings, written before its stages run, so the report can print the commands it ran."""
FID_GROUPS = ("condition", "skin_type")
"""The evaluation's FID/KID tables: one per condition and one per skin type (the phantom's test split is
too small for condition x skin-type cells to say anything)."""


@dataclass(frozen=True)
class DemoLayout:
    out: Path

    @property
    def photos(self) -> Path:
        """The uncropped photos and their manifest (the phantom's, in the demo)."""
        return self.out / "photos"

    @property
    def prepared(self) -> Path:
        return self.out / "prepared"

    @property
    def run(self) -> Path:
        return self.out / "run"

    @property
    def table(self) -> Path:
        return self.out / "ablation"

    @property
    def ablation_runs(self) -> Path:
        """The three ablations' runs, kept apart from the table so that it can be redone without them."""
        return self.out / "ablation-runs"

    def ablation_trainings(self, seeds: Sequence[int]) -> list[tuple[str, int, Path]]:
        """(row, seed, run) of every Table 1 run under ablation-runs/ for SEEDS, the first of which is the
        config's own: each row with each seed, but DermGAN's first-seed run, which is the main run."""
        return [
            (name, seed, self.ablation_runs / variant_key(name, seed, seeds[0]))
            for seed in seeds
            for name in ABLATIONS
            if (name, seed) != ("dermgan", seeds[0])
        ]

    @property
    def twins(self) -> Path:
        """Held-out test crops rendered from their own maps: every synthetic image has its real twin."""
        return self.table / "synthetic" / "dermgan"

    @property
    def synthetic(self) -> Path:
        return self.out / "synthetic"

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @property
    def eval(self) -> Path:
        return self.out / "eval"

    @property
    def diversity_samples(self) -> Path:
        """Several samples of each of a few maps (`generate --samples-per-map`), for `eval diversity`."""
        return self.eval / "diversity-samples"

    def fid(self, group: str) -> Path:
        """Where `eval fid --by GROUP` writes its fid.json."""
        return self.eval / f"by-{group.replace('_', '-')}"

    @property
    def classify(self) -> Path:
        return self.out / "classify"

    @property
    def comparison(self) -> Path:
        return self.classify / "compare"

    @property
    def resized(self) -> Path:
        """The classifiers' cache of photos resized to their input size."""
        return self.out / "resized-cache"

    @property
    def cache(self) -> Path:
        return self.out / "feature-cache"
