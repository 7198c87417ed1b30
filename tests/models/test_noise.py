"""Decoder noise: per-image and reproducible when given, from the global RNG otherwise, off by default."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dermgan.models import UNetGenerator

MAP_CHANNELS = 5
SIDES = (4, 16)


def _generator(noise_resolutions=SIDES, scale: float = 0.5) -> UNetGenerator:
    torch.manual_seed(0)
    generator = UNetGenerator(MAP_CHANNELS, size=32, ngf=4, noise_resolutions=noise_resolutions)
    for injection in generator.noise.values():
        nn.init.constant_(injection.scale, scale)
    return generator.eval()


def _seeded(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_given_noise_depends_on_each_images_seed_alone():
    generator = _generator()
    maps = torch.rand(3, MAP_CHANNELS, 32, 32, generator=torch.Generator().manual_seed(1))
    batch = generator(maps, generator.make_noise(_seeded(7, 8, 9)))
    alone = generator(maps[1:2], generator.make_noise(_seeded(8)))
    torch.testing.assert_close(alone, batch[1:2], atol=1e-6, rtol=0)
    same = generator(maps[:1], generator.make_noise(_seeded(7)))
    other = generator(maps[:1], generator.make_noise(_seeded(70)))
    torch.testing.assert_close(same, batch[:1], atol=1e-6, rtol=0)
    assert (other - same).abs().max() > 0.05


def test_without_given_noise_the_global_rng_draws_it():
    """What training does: the trainer seeds the global RNG and checkpoints its state."""
    generator = _generator().train()
    maps = torch.rand(2, MAP_CHANNELS, 32, 32)
    images = []
    for seed in (3, 3, 4):
        torch.manual_seed(seed)
        images.append(generator(maps))
    assert torch.equal(images[0], images[1])
    assert (images[0] - images[2]).abs().max() > 0.05


def test_noise_scales_start_at_zero_and_learn():
    """A new generator with noise paints what the one without does, and the losses reach its scales."""
    torch.manual_seed(0)
    plain = UNetGenerator(MAP_CHANNELS, size=32, ngf=4).eval()
    torch.manual_seed(0)
    noisy = UNetGenerator(MAP_CHANNELS, size=32, ngf=4, noise_resolutions=SIDES).eval()
    maps = torch.rand(2, MAP_CHANNELS, 32, 32)
    assert torch.equal(noisy(maps), plain(maps))
    noisy.train()(maps).square().mean().backward()
    assert all(injection.scale.grad.abs().sum() > 0 for injection in noisy.noise.values())


def test_noise_off_leaves_the_state_dict_as_it_was_and_on_adds_one_scale_per_channel():
    plain = set(UNetGenerator(MAP_CHANNELS, size=32, ngf=4).state_dict())
    assert set(_generator(noise_resolutions=()).state_dict()) == plain
    noisy = _generator().state_dict()
    assert set(noisy) == plain | {"noise.4.scale", "noise.16.scale"}
    # 32 px, ngf 4: the 4 px level outputs 4 * ngf channels, the 16 px level ngf.
    assert noisy["noise.4.scale"].shape == (1, 16, 1, 1)
    assert noisy["noise.16.scale"].shape == (1, 4, 1, 1)


def test_a_generator_without_noise_takes_an_empty_noise_list():
    generator = _generator(noise_resolutions=())
    maps = torch.rand(1, MAP_CHANNELS, 32, 32)
    assert generator.make_noise(_seeded(1)) == []
    assert torch.equal(generator(maps, []), generator(maps))


@pytest.mark.parametrize("sides", [[32], [1], [64, 4], [3]])
def test_noise_at_sides_the_decoder_does_not_have_is_refused(sides):
    with pytest.raises(ValueError, match=r"pick from \[2, 4, 8, 16\]"):
        UNetGenerator(MAP_CHANNELS, size=32, ngf=4, noise_resolutions=sides)
