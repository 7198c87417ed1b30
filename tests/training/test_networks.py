"""The networks a config builds: spectral norm on the discriminator's convs, each optimiser's own lr."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from dermgan.training.config import load_config
from dermgan.training.networks import Networks

MAP_CHANNELS = 3
SMALL = ("data.size=32", "model.ngf=4", "model.ndf=4", "model.n_layers_d=2", "train.batch_size=2")


def _networks(*overrides: str) -> Networks:
    torch.manual_seed(0)
    return Networks.build(load_config(None, [*SMALL, *overrides]), MAP_CHANNELS, torch.device("cpu"))


def _train(networks: Networks, *overrides: str, steps: int = 3) -> None:
    config = load_config(None, [*SMALL, *overrides])
    step = networks.gan_step(config, torch.device("cpu"))
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        maps = torch.rand(2, MAP_CHANNELS, 32, 32, generator=generator) * 2 - 1
        images = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
        step(maps, images, torch.ones(2, 1, 32, 32))


def _largest_singular_values(module: nn.Module) -> list[float]:
    """Of each conv's weight as its forward uses it (through the parametrization, if any)."""
    convs = [layer for layer in module.modules() if isinstance(layer, nn.Conv2d)]
    return [torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item() for conv in convs]


@pytest.mark.parametrize(
    "overrides", [("model.norm=batch",), ("model.norm=instance",), ("model.num_scales_d=2",)]
)
def test_spectral_norm_keeps_every_discriminator_conv_at_singular_value_1_while_training(overrides):
    networks = _networks("model.spectral_norm_d=true", *overrides)
    _train(networks, "model.spectral_norm_d=true", *overrides)
    values = _largest_singular_values(networks.discriminator)
    assert len(values) == 4 * (2 if "model.num_scales_d=2" in overrides else 1)
    assert values == pytest.approx([1.0] * len(values), abs=0.1)
    # One power iteration per forward converges at the rate sigma_2 / sigma_1, which is 0.93 for one conv
    # of a freshly initialised discriminator here: more forwards bring every conv to 1.
    pair = torch.rand(1, MAP_CHANNELS + 3, 32, 32)
    for _ in range(60):
        networks.discriminator(pair)
    assert _largest_singular_values(networks.discriminator) == pytest.approx([1.0] * len(values), abs=0.005)


def test_without_spectral_norm_the_discriminator_has_no_parametrization():
    networks = _networks()
    _train(networks)
    assert not any(parametrize.is_parametrized(layer) for layer in networks.discriminator.modules())
    assert not any("parametrizations" in name for name in networks.discriminator.state_dict())
    # Plain pix2pix init (N(0, 0.02)) puts the convs far below 1: the test above has something to check.
    assert max(_largest_singular_values(networks.discriminator)) < 0.5


def test_spectral_norm_checkpoints_into_a_fresh_discriminator():
    trained = _networks("model.spectral_norm_d=true")
    _train(trained, "model.spectral_norm_d=true")
    fresh = _networks("model.spectral_norm_d=true")
    fresh.discriminator.load_state_dict(trained.discriminator.state_dict())
    pair = torch.rand(1, MAP_CHANNELS + 3, 32, 32)
    trained.discriminator.eval(), fresh.discriminator.eval()
    torch.testing.assert_close(fresh.discriminator(pair)[-1], trained.discriminator(pair)[-1])


@pytest.mark.parametrize(("lr_d", "expected"), [("null", 3e-4), ("1.2e-3", 1.2e-3)])
def test_the_discriminator_optimiser_starts_at_lr_d_or_else_lr(lr_d: str, expected: float):
    networks = _networks("train.lr=3e-4", f"train.lr_d={lr_d}")
    assert networks.optimizer_g.param_groups[0]["lr"] == 3e-4
    assert networks.optimizer_d.param_groups[0]["lr"] == expected
