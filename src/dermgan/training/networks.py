"""The networks, optimisers and training step that a config describes, placed on a device.

The trainer and the benchmarks build them the same way, so a benchmark measures the step users train with.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from dermgan.models import MultiScaleDiscriminator, PatchDiscriminator, init_weights, spectral_norm_convs
from dermgan.training.config import Config
from dermgan.training.release import build_generator
from dermgan.training.step import GanStep, PairJudge


def build_discriminator(config: Config, map_channels: int) -> nn.Module:
    model = config.model
    arguments = dict(in_channels=map_channels + 3, ndf=model.ndf, n_layers=model.n_layers_d, norm=model.norm)
    if model.num_scales_d > 1:
        return MultiScaleDiscriminator(**arguments, num_scales=model.num_scales_d)
    return PatchDiscriminator(**arguments)


@dataclass
class Networks:
    generator: nn.Module
    discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    memory_format: torch.memory_format

    @classmethod
    def build(
        cls, config: Config, map_channels: int, device: torch.device, sync_bn: bool = False
    ) -> Networks:
        """Freshly initialised networks (from the global RNG: seed it first) and their Adam optimisers."""
        generator = init_weights(build_generator(config, map_channels))
        discriminator = init_weights(build_discriminator(config, map_channels))
        if config.model.spectral_norm_d:
            discriminator = spectral_norm_convs(discriminator)
        if sync_bn:
            generator = nn.SyncBatchNorm.convert_sync_batchnorm(generator)
            discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(discriminator)
        train = config.train
        memory_format = torch.channels_last if train.channels_last else torch.contiguous_format
        generator.to(device, memory_format=memory_format)
        discriminator.to(device, memory_format=memory_format)
        # Fused Adam: one kernel over all parameters instead of a dozen passes over memory per step.
        adam = dict(betas=(train.beta1, train.beta2), eps=train.adam_eps, fused=True)
        return cls(
            generator=generator,
            discriminator=discriminator,
            optimizer_g=torch.optim.Adam(generator.parameters(), lr=train.lr, **adam),
            optimizer_d=torch.optim.Adam(discriminator.parameters(), lr=train.discriminator_lr, **adam),
            memory_format=memory_format,
        )

    def gan_step(self, config: Config, device: torch.device, data_parallel: bool = False) -> GanStep:
        """The step as configured: DDP-wrapped under torchrun, compiled on request, bf16 autocast or not.

        With instance norm the discriminator judges real and fake pairs as one batch (no batch statistics
        to keep apart); with batch norm it judges them apart, as pix2pix does.
        """
        generator = self.generator
        judge: nn.Module = PairJudge(self.discriminator, joint=config.model.norm == "instance")
        if data_parallel:
            generator, judge = DistributedDataParallel(generator), DistributedDataParallel(judge)
        if config.train.compile:
            generator, judge = torch.compile(generator), torch.compile(judge)
        return GanStep(
            generator=generator,
            judge=judge,
            bare_discriminator=self.discriminator,
            optimizer_g=self.optimizer_g,
            optimizer_d=self.optimizer_d,
            loss=config.loss,
            autocast_device=device.type,
            bf16=config.train.precision == "bf16",
        )
