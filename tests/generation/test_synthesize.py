"""A generator with noise: each image's noise comes from its own seed, whatever the batch it runs in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dermgan.generation.maps import MapSpec
from dermgan.generation.synthesize import Synthesizer
from release_helpers import CONDITIONS, save_release

SPECS = [
    MapSpec(condition=CONDITIONS[0], skin_type="2", boxes=[(4, 4, 20, 18)], size=32),
    MapSpec(condition=CONDITIONS[1], skin_type="5", boxes=[(10, 8, 28, 30)], size=32),
]


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    folder = tmp_path_factory.mktemp("noisy") / "run"
    return Synthesizer(save_release(folder, "model.noise_resolutions=[4,8,16]"))


def test_one_map_differs_between_seeds_and_repeats_under_one_seed(noisy: Synthesizer):
    first, other, again = noisy.render([SPECS[0]] * 3, seeds=[11, 12, 11])
    assert np.abs(first.astype(int) - other.astype(int)).max() > 10
    assert np.array_equal(first, again)


def test_an_image_does_not_depend_on_the_batch_it_is_in(noisy: Synthesizer):
    specs, seeds = [SPECS[0], SPECS[1], SPECS[0], SPECS[1]], [3, 4, 5, 6]
    batch = noisy.render(specs, seeds)
    alone = np.concatenate([noisy.render([spec], [seed]) for spec, seed in zip(specs, seeds, strict=True)])
    reversed_batch = noisy.render(specs[::-1], seeds[::-1])[::-1]
    assert np.array_equal(batch, alone)
    assert np.array_equal(batch, reversed_batch)


def test_without_seeds_every_image_gets_the_noise_of_seed_0(noisy: Synthesizer):
    """Sweeps and figures pass no seeds: the same map then paints the same image, under seed 0's noise."""
    images = noisy.render([SPECS[1], SPECS[1]])
    assert np.array_equal(images[0], images[1])
    assert np.array_equal(images, noisy.render([SPECS[1], SPECS[1]], seeds=[0, 0]))


def test_a_generator_without_noise_paints_one_image_per_map(tmp_path: Path):
    plain = Synthesizer(save_release(tmp_path / "plain"))
    images = plain.render([SPECS[0]] * 2, seeds=[11, 12])
    assert np.array_equal(images[0], images[1])
