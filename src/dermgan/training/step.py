"""One DermGAN training step: a discriminator update, then a generator update with the four losses.

The discriminator's activations on real pairs are computed once and serve both its own loss and the
generator's feature-matching target. Loss terms with weight 0 are not computed at all.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from dermgan.models import feature_matching_loss, gan_loss, l1_loss, roi_l1_loss
from dermgan.training.config import LossConfig

LOSS_TERMS = (
    "loss_d",
    "loss_d_real",
    "loss_d_fake",
    "loss_g",
    "loss_g_gan",
    "loss_g_l1",
    "loss_g_roi",
    "loss_g_fm",
)


def _halves(activations):
    """Splits every activation (nested per scale) of a joint real+fake batch into (fake, real)."""
    if isinstance(activations, torch.Tensor):
        return activations.chunk(2)
    pairs = [_halves(item) for item in activations]
    return [fake for fake, _ in pairs], [real for _, real in pairs]


class PairJudge(nn.Module):
    """The discriminator on (map, fake) and (map, real) pairs in one call: DDP needs one forward per backward.

    `joint` sends both through as one batch, which is faster and learns the same only when the
    discriminator has no batch statistics (instance norm); with batch norm the two go through apart, as
    in pix2pix, so that each batch is normalised on its own.
    """

    def __init__(self, discriminator: nn.Module, joint: bool):
        super().__init__()
        self.discriminator, self.joint = discriminator, joint

    def forward(self, maps: torch.Tensor, fake: torch.Tensor, real: torch.Tensor):
        if self.joint:
            return _halves(
                self.discriminator(torch.cat([maps.repeat(2, 1, 1, 1), torch.cat([fake, real])], 1))
            )
        return self.discriminator(torch.cat([maps, fake], 1)), self.discriminator(torch.cat([maps, real], 1))


@dataclass
class GanStep:
    """The networks as called (maybe DDP-wrapped or compiled), the bare discriminator, the optimisers.

    `judge` is a PairJudge (or its DDP wrapper) for the discriminator's update; the generator's update
    goes through the bare discriminator, whose parameters it must not train nor synchronise.
    """

    generator: nn.Module
    judge: nn.Module
    bare_discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    loss: LossConfig
    autocast_device: str = "cpu"
    bf16: bool = False

    def _autocast(self):
        if not self.bf16:
            return nullcontext()
        return torch.autocast(self.autocast_device, dtype=torch.bfloat16)

    def _logits(self, activations):
        """The patch logits of a discriminator's output (per scale for a multi-scale one)."""
        if isinstance(activations[0], (list, tuple)):
            return [scale[-1] for scale in activations]
        return activations[-1]

    def __call__(
        self, maps: torch.Tensor, images: torch.Tensor, roi: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        loss, zero = self.loss, images.new_zeros(())
        with self._autocast():
            fake = self.generator(maps)
            d_fake, d_real = self.judge(maps, fake.detach(), images)
        loss_d_fake = gan_loss(self._logits(d_fake), real=False, mode=loss.gan_mode, for_discriminator=True)
        loss_d_real = gan_loss(self._logits(d_real), real=True, mode=loss.gan_mode, for_discriminator=True)
        loss_d = 0.5 * (loss_d_fake + loss_d_real)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()

        self.bare_discriminator.requires_grad_(False)
        with self._autocast():
            g_fake = self.bare_discriminator(torch.cat([maps, fake], dim=1))
        self.bare_discriminator.requires_grad_(True)
        fake = fake.float()
        terms = {
            "loss_g_gan": gan_loss(
                self._logits(g_fake), real=True, mode=loss.gan_mode, for_discriminator=False
            )
            if loss.lambda_gan
            else zero,
            "loss_g_l1": l1_loss(fake, images) if loss.lambda_l1 else zero,
            "loss_g_roi": roi_l1_loss(fake, images, roi) if loss.lambda_roi else zero,
            "loss_g_fm": feature_matching_loss(g_fake, d_real, loss.fm_layers) if loss.lambda_fm else zero,
        }
        loss_g = (
            loss.lambda_gan * terms["loss_g_gan"]
            + loss.lambda_l1 * terms["loss_g_l1"]
            + loss.lambda_roi * terms["loss_g_roi"]
            + loss.lambda_fm * terms["loss_g_fm"]
        )
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        values = {
            "loss_d": loss_d,
            "loss_d_real": loss_d_real,
            "loss_d_fake": loss_d_fake,
            "loss_g": loss_g,
            **terms,
        }
        return {name: values[name].detach().float() for name in LOSS_TERMS}
