"""The fidelity curve: KID of the test twins rendered by the generator at a training step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from fid_helpers import tiny_network

from conftest import TINY, run_cli
from dermgan.data.dataset import PreparedPairs
from dermgan.errors import UserError
from dermgan.evaluation.curve import FidelityCurve, measure_point
from dermgan.evaluation.fid import MIN_IMAGES_FOR_FID
from dermgan.training.callbacks import TrainingMoment
from dermgan.training.config import Config, load_config
from dermgan.training.release import load_generator
from dermgan.training.trainer import train
from release_helpers import save_release

CPU = torch.device("cpu")


class NoiselessGenerator(torch.nn.Module):
    """A stand-in for UNetGenerator without decoder noise: no noise tensors to make or take."""

    def make_noise(self, generators, device=None) -> list[torch.Tensor]:
        return []


class CopyingGenerator(NoiselessGenerator):
    """Ignores the maps and returns real train crops: as close to real as a generator gets."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.images, self.next = images, 0

    def forward(self, maps: torch.Tensor, noise: list[torch.Tensor]) -> torch.Tensor:
        rows = [(self.next + index) % len(self.images) for index in range(len(maps))]
        self.next += len(maps)
        return self.images[rows]


class NoiseGenerator(NoiselessGenerator):
    def forward(self, maps: torch.Tensor, noise: list[torch.Tensor]) -> torch.Tensor:
        noise = torch.rand(len(maps), 3, *maps.shape[-2:], generator=torch.Generator().manual_seed(0))
        return noise * 2 - 1


def _config(prepared: Path) -> Config:
    config = load_config(overrides=TINY)
    config.data.path = str(prepared)
    return config


def _moment(generator: torch.nn.Module, config: Config) -> TrainingMoment:
    return TrainingMoment(step=1, generator=generator, config=config, device=CPU)


@pytest.fixture(scope="module")
def train_crops(phantom_32: Path) -> torch.Tensor:
    pairs = PreparedPairs(phantom_32, "train", size=32)
    return torch.stack([pairs[index].image for index in range(40)])


def test_kid_is_lower_for_real_images_than_for_noise(phantom_32: Path, train_crops, tmp_path):
    curve = FidelityCurve(images=40, network=tiny_network(), cache=tmp_path / "cache", workers=0)
    config = _config(phantom_32)
    real = curve(_moment(CopyingGenerator(train_crops), config))
    noise = curve(_moment(NoiseGenerator(), config))
    assert real["kid_images"] == noise["kid_images"] == 40
    assert real["kid"] + 3 * real["kid_std"] < noise["kid"] - 3 * noise["kid_std"]
    assert "fid" not in real, f"FID needs {MIN_IMAGES_FOR_FID} twins"


def test_the_real_crops_are_embedded_once_and_each_point_embeds_its_twins(phantom_32: Path, tmp_path):
    network = tiny_network()
    curve = FidelityCurve(images=12, network=network, cache=tmp_path / "cache", workers=0)
    config = _config(phantom_32)
    curve(_moment(NoiseGenerator(), config))
    assert network.module.images_seen == 12 + 12
    curve(_moment(NoiseGenerator(), config))
    assert network.module.images_seen == 12 + 12 + 12, "the second point embeds its twins only"
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 12, "twins stay out of the shared cache"


def test_the_twins_are_drawn_from_the_test_maps_in_a_fixed_order(phantom_32: Path, tmp_path):
    """The generator is asked for test maps: the same ones at every point and in every run."""
    config = _config(phantom_32)
    first = FidelityCurve(images=10, network=tiny_network(), cache=tmp_path).test_twins(config, CPU)
    again = FidelityCurve(images=10, network=tiny_network(), cache=tmp_path).test_twins(config, CPU)
    torch.testing.assert_close(first.maps, again.maps)
    np.testing.assert_array_equal(first.real_features, again.real_features)
    assert first.maps.shape == (10, 3, 32, 32)


def test_fid_joins_kid_from_the_fid_threshold_on():
    rng = np.random.default_rng(0)
    small = measure_point(rng.normal(size=(MIN_IMAGES_FOR_FID - 1, 4)), rng.normal(size=(300, 4)))
    large = measure_point(rng.normal(size=(MIN_IMAGES_FOR_FID, 4)), rng.normal(size=(300, 4)))
    assert small.fid is None and small.kid_images == MIN_IMAGES_FOR_FID - 1
    assert large.fid is not None and large.kid_std > 0


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="--curve-points 0"):
        FidelityCurve(points=0)
    with pytest.raises(UserError, match="--curve-images 1"):
        FidelityCurve(images=1)


def test_a_run_logs_the_inception_kid_of_its_twins(phantom_32: Path, tmp_path):
    """The real FID Inception, on 4 test crops and their twins, at the last step of a 2-step run."""
    curve = FidelityCurve(points=1, images=4, cache=tmp_path / "cache", workers=0)
    train(
        phantom_32,
        tmp_path / "run",
        overrides=(*TINY, "train.max_steps=2"),
        progress=False,
        callbacks=[curve],
    )
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [("kid" in line) for line in lines] == [False, True]
    assert lines[-1]["kid_images"] == 4 and np.isfinite(lines[-1]["kid"]) and lines[-1]["kid_std"] > 0


def test_dermgan_train_logs_the_curve_with_its_options(phantom_32: Path, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("dermgan.evaluation.curve.inception_network", tiny_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sets = [argument for override in (*TINY, "train.max_steps=4") for argument in ("--set", override)]
    run = tmp_path / "run"
    arguments = ["train", "--data", phantom_32, "--out", run, "--no-progress", *sets]
    code, _, err = run_cli(monkeypatch, capsys, *arguments, "--curve-points", "2", "--curve-images", "5")
    assert code == 0, err
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(line["step"], line["kid_images"]) for line in lines if "kid" in line] == [(2, 5), (4, 5)]

    code, _, err = run_cli(monkeypatch, capsys, *arguments[:4], tmp_path / "other", "--curve-points", "-1")
    assert code != 0 and "error: --curve-points -1: give at least 1" in err


def test_a_generator_with_noise_is_measured_with_the_same_noise_at_every_point(phantom_32: Path, tmp_path):
    """Each twin's noise comes from its own seed: two points of one set of weights agree, whatever the
    global random stream holds."""
    generator, _ = load_generator(save_release(tmp_path / "noisy", "model.noise_resolutions=[8,16]"))
    curve = FidelityCurve(images=12, network=tiny_network(), cache=tmp_path / "cache", workers=0)
    config = _config(phantom_32)
    torch.manual_seed(5)
    first = curve(_moment(generator, config))
    torch.manual_seed(6)
    assert first == curve(_moment(generator, config))
