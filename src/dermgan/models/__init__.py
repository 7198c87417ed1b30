"""DermGAN's networks and loss terms, independent of how they are trained.

UNetGenerator maps a semantic map to an image; PatchDiscriminator / MultiScaleDiscriminator judge
(map, image) pairs and expose their activations for feature matching; the loss functions, weight init
and the generator's EMA are plain building blocks for the trainer.
"""

from dermgan.models.discriminator import MultiScaleDiscriminator, PatchDiscriminator, receptive_field
from dermgan.models.ema import EMA
from dermgan.models.generator import UNetGenerator, UpsampleMode, noise_resolutions_for, unet_depth
from dermgan.models.init import init_weights
from dermgan.models.losses import GanMode, feature_matching_loss, gan_loss, l1_loss, roi_l1_loss
from dermgan.models.noise import NoiseInjection
from dermgan.models.norm import NormKind, norm_layer
from dermgan.models.spectral_norm import spectral_norm_convs

__all__ = [
    "EMA",
    "GanMode",
    "MultiScaleDiscriminator",
    "NoiseInjection",
    "NormKind",
    "PatchDiscriminator",
    "UNetGenerator",
    "UpsampleMode",
    "feature_matching_loss",
    "gan_loss",
    "init_weights",
    "l1_loss",
    "noise_resolutions_for",
    "norm_layer",
    "receptive_field",
    "roi_l1_loss",
    "spectral_norm_convs",
    "unet_depth",
]
