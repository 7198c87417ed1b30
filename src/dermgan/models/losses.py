"""DermGAN's loss terms as plain functions of tensors; the trainer weighs and sums them.

Every function computes in float32 whatever the inputs' dtype, so bf16 activations from autocast do not
lose precision in the reduction. Multi-scale discriminators' outputs (one entry per scale) are averaged
over the scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F

GanMode = Literal["vanilla", "lsgan", "hinge"]

Logits = torch.Tensor | Sequence[torch.Tensor]
Features = Sequence[torch.Tensor] | Sequence[Sequence[torch.Tensor]]


def gan_loss(logits: Logits, real: bool, mode: GanMode, for_discriminator: bool) -> torch.Tensor:
    """The adversarial loss of patch logits judged as `real` (True) or fake (False).

    vanilla (BCE) and lsgan (MSE) push the logits toward 1 (real) or 0 (fake) for both networks; the
    generator calls it with real=True (the non-saturating form). hinge differs per network: the
    discriminator gets mean(relu(1 - x)) on real and mean(relu(1 + x)) on fake, the generator -mean(x).
    A list of logits (one per scale) gives the mean over scales.
    """
    if not isinstance(logits, torch.Tensor):
        return torch.stack([gan_loss(scale, real, mode, for_discriminator) for scale in logits]).mean()
    logits = logits.float()
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))
    if mode == "lsgan":
        return F.mse_loss(logits, torch.full_like(logits, float(real)))
    if mode == "hinge":
        if for_discriminator:
            return F.relu(1.0 - logits).mean() if real else F.relu(1.0 + logits).mean()
        if not real:
            raise ValueError("the generator's hinge loss scores fakes as real: call it with real=True")
        return -logits.mean()
    raise ValueError(f"GAN loss mode must be 'vanilla', 'lsgan' or 'hinge', not {mode!r}")


def l1_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the whole image (pix2pix's reconstruction term)."""
    return F.l1_loss(fake.float(), real.float())


def roi_l1_loss(fake: torch.Tensor, real: torch.Tensor, roi_mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error inside the condition's ROI boxes: the paper's condition-specific loss.

    roi_mask is B x 1 x H x W in {0, 1}. Each image contributes the mean over its own ROI pixels and
    channels, so a small lesion weighs as much as a large one; the batch value is the mean over the
    images that have an ROI. Per-image means also make the value independent of how a batch is split
    across data-parallel ranks. A batch without any ROI gives a zero that is still connected to `fake`.
    """
    fake, real = fake.float(), real.float()
    inside = roi_mask.to(fake.dtype).expand_as(fake)
    error_sum = ((fake - real).abs() * inside).sum(dim=(1, 2, 3))
    counts = inside.sum(dim=(1, 2, 3))
    per_image = error_sum / counts.clamp_min(1.0)
    images_with_roi = (counts > 0).sum().clamp_min(1)
    return per_image.sum() / images_with_roi


def feature_matching_loss(
    fake_features: Features, real_features: Features, layers: Sequence[int] = (-2,)
) -> torch.Tensor:
    """Mean over `layers` of the MSE between discriminator activations on fake and (detached) real pairs.

    The default -2 is the activation feeding the final logit conv, as in the paper. The real side is a
    fixed target: no gradient reaches the discriminator's pass on real pairs. Lists of lists (one list
    per scale of a multi-scale discriminator) give the mean over scales.
    """
    if not layers:
        raise ValueError("feature matching needs at least one layer index")
    if not isinstance(fake_features[0], torch.Tensor):
        per_scale = [
            feature_matching_loss(fake, real, layers)
            for fake, real in zip(fake_features, real_features, strict=True)
        ]
        return torch.stack(per_scale).mean()
    per_layer = [
        F.mse_loss(fake_features[layer].float(), real_features[layer].detach().float()) for layer in layers
    ]
    return torch.stack(per_layer).mean()
