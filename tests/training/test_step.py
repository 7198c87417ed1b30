"""The training step: every loss term weighted and switchable, the joint discriminator pass, bf16."""

from __future__ import annotations

import pytest
import torch

from dermgan.models import PatchDiscriminator, UNetGenerator, init_weights
from dermgan.training.config import LossConfig
from dermgan.training.step import GanStep, PairJudge

MAP_CHANNELS = 3
WEIGHTS = {
    "lambda_gan": "loss_g_gan",
    "lambda_l1": "loss_g_l1",
    "lambda_roi": "loss_g_roi",
    "lambda_fm": "loss_g_fm",
}


def _batch():
    generator = torch.Generator().manual_seed(0)
    maps = torch.rand(2, MAP_CHANNELS, 32, 32, generator=generator) * 2 - 1
    images = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
    roi = torch.zeros(2, 1, 32, 32)
    roi[:, :, 8:20, 10:24] = 1
    return maps, images, roi


def _networks(norm: str = "batch"):
    torch.manual_seed(0)
    generator = init_weights(UNetGenerator(MAP_CHANNELS, size=32, ngf=4, norm=norm, dropout=0.0))
    discriminator = init_weights(PatchDiscriminator(MAP_CHANNELS + 3, ndf=4, n_layers=2, norm=norm))
    return generator, discriminator


def _step(loss: LossConfig, norm: str = "batch", bf16: bool = False):
    """One step from the same start; returns the reported losses and the trained generator."""
    generator, discriminator = _networks(norm)
    step = GanStep(
        generator=generator,
        judge=PairJudge(discriminator, joint=norm == "instance"),
        bare_discriminator=discriminator,
        optimizer_g=torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999)),
        optimizer_d=torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999)),
        loss=loss,
        bf16=bf16,
    )
    return step(*_batch()), generator


def test_generator_loss_is_the_weighted_sum_of_its_terms():
    loss = LossConfig(lambda_gan=2.0, lambda_l1=3.0, lambda_roi=5.0, lambda_fm=7.0)
    values, _ = _step(loss)
    expected = sum(getattr(loss, weight) * values[term] for weight, term in WEIGHTS.items())
    torch.testing.assert_close(values["loss_g"], expected)
    assert all(values[term] > 0 for term in WEIGHTS.values())
    torch.testing.assert_close(values["loss_d"], 0.5 * (values["loss_d_real"] + values["loss_d_fake"]))


@pytest.mark.parametrize("weight", list(WEIGHTS))
def test_a_zero_weight_switches_its_term_off(weight: str):
    all_on = LossConfig()
    switched = all_on.model_copy(update={weight: 0.0})
    values, trained = _step(switched)
    _, trained_with_all = _step(all_on)
    assert values[WEIGHTS[weight]] == 0
    others = sum(getattr(switched, name) * values[term] for name, term in WEIGHTS.items())
    torch.testing.assert_close(values["loss_g"], others)
    moved = [
        (a - b).abs().max().item()
        for a, b in zip(trained.parameters(), trained_with_all.parameters(), strict=True)
    ]
    assert max(moved) > 0, "switching the term off did not change the generator's update"


def test_the_generator_update_leaves_the_discriminator_alone():
    """No gradient of the generator's losses reaches the discriminator, which ends trainable."""
    generator, discriminator = _networks()
    optimizer_d = torch.optim.Adam(discriminator.parameters())
    grads_after_own_update = {}
    own_update = optimizer_d.step

    def remember_grads(*args, **kwargs):
        result = own_update(*args, **kwargs)
        grads_after_own_update.update({n: p.grad.clone() for n, p in discriminator.named_parameters()})
        return result

    optimizer_d.step = remember_grads
    step = GanStep(
        generator=generator,
        judge=PairJudge(discriminator, joint=False),
        bare_discriminator=discriminator,
        optimizer_g=torch.optim.Adam(generator.parameters()),
        optimizer_d=optimizer_d,
        loss=LossConfig(),
    )
    step(*_batch())
    assert grads_after_own_update
    for name, parameter in discriminator.named_parameters():
        torch.testing.assert_close(parameter.grad, grads_after_own_update[name])
        assert parameter.requires_grad


def test_joint_discriminator_pass_equals_two_passes_with_instance_norm():
    _, discriminator = _networks("instance")
    maps, images, _ = _batch()
    fake = torch.rand_like(images)
    joint = PairJudge(discriminator, joint=True)(maps, fake, images)
    apart = PairJudge(discriminator, joint=False)(maps, fake, images)
    for joint_side, apart_side in zip(joint, apart, strict=True):
        for a, b in zip(joint_side, apart_side, strict=True):
            torch.testing.assert_close(a, b)


def test_bf16_step_gives_finite_losses_close_to_fp32():
    full, _ = _step(LossConfig())
    half, _ = _step(LossConfig(), bf16=True)
    assert all(torch.isfinite(value) for value in half.values())
    torch.testing.assert_close(half["loss_g_l1"], full["loss_g_l1"], rtol=0.05, atol=0.0)
