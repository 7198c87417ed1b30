"""Loss terms against values computed by hand on small tensors."""

from __future__ import annotations

import math

import pytest
import torch

from dermgan.models import feature_matching_loss, gan_loss, l1_loss, roi_l1_loss

LOGITS = [-2.0, 0.5, 3.0]


def _logits() -> torch.Tensor:
    return torch.tensor(LOGITS).view(1, 1, 1, 3)


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("for_discriminator", [True, False])
def test_vanilla_is_binary_cross_entropy_for_both_networks(for_discriminator):
    # BCE with target 1: -log(sigmoid(x)) = softplus(-x); with target 0: -log(1 - sigmoid(x)) = softplus(x).
    real = sum(_softplus(-x) for x in LOGITS) / 3
    fake = sum(_softplus(x) for x in LOGITS) / 3
    assert gan_loss(_logits(), True, "vanilla", for_discriminator).item() == pytest.approx(real, rel=1e-6)
    assert gan_loss(_logits(), False, "vanilla", for_discriminator).item() == pytest.approx(fake, rel=1e-6)


def test_lsgan_is_squared_distance_to_1_or_0_for_both_networks():
    logits = torch.tensor([0.0, 0.5, 3.0])
    for for_discriminator in (True, False):
        real = gan_loss(logits, True, "lsgan", for_discriminator).item()
        fake = gan_loss(logits, False, "lsgan", for_discriminator).item()
        assert real == pytest.approx((1 + 0.25 + 4) / 3)
        assert fake == pytest.approx((0 + 0.25 + 9) / 3)


def test_hinge_for_the_discriminator():
    # relu(1 - x) = [3, 0.5, 0] on real; relu(1 + x) = [0, 1.5, 4] on fake.
    assert gan_loss(_logits(), True, "hinge", True).item() == pytest.approx(3.5 / 3)
    assert gan_loss(_logits(), False, "hinge", True).item() == pytest.approx(5.5 / 3)


def test_hinge_for_the_generator_is_minus_the_mean_logit():
    assert gan_loss(_logits(), True, "hinge", False).item() == pytest.approx(-1.5 / 3)
    with pytest.raises(ValueError, match="real=True"):
        gan_loss(_logits(), False, "hinge", False)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="wgan"):
        gan_loss(_logits(), True, "wgan", True)


@pytest.mark.parametrize("mode", ["vanilla", "lsgan", "hinge"])
def test_a_list_of_logits_averages_over_scales(mode):
    coarse = torch.tensor([[[[1.0, -1.0]]]])
    expected = (gan_loss(_logits(), True, mode, True) + gan_loss(coarse, True, mode, True)) / 2
    assert gan_loss([_logits(), coarse], True, mode, True).item() == pytest.approx(expected.item())


def test_bf16_logits_give_a_float32_loss():
    loss = gan_loss(_logits().bfloat16(), True, "vanilla", True)
    assert loss.dtype == torch.float32


def test_l1_is_the_whole_image_mean_absolute_error():
    fake = torch.zeros(1, 3, 2, 2)
    real = torch.arange(12, dtype=torch.float32).view(1, 3, 2, 2)
    assert l1_loss(fake, real).item() == pytest.approx(66 / 12)


def _roi_case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two 1x4x4 RGB-like images; image 0 has a 1-pixel ROI, image 1 a 2x2 ROI."""
    fake = torch.zeros(2, 3, 4, 4, requires_grad=True)
    real = torch.zeros(2, 3, 4, 4)
    roi = torch.zeros(2, 1, 4, 4)
    roi[0, 0, 0, 0] = 1
    real[0, :, 0, 0] = torch.tensor([1.0, 2.0, 3.0])  # mean |error| in ROI 0: 2
    roi[1, 0, 1:3, 1:3] = 1
    real[1, 0, 1:3, 1:3] = 8.0  # 4 of the 12 ROI values are 8: mean 32 / 12
    return fake, real, roi


def test_roi_l1_is_the_mean_of_the_per_image_roi_means():
    fake, real, roi = _roi_case()
    # Per-image means, then their mean: the tiny ROI weighs as much as the large one.
    assert roi_l1_loss(fake, real, roi).item() == pytest.approx((2 + 32 / 12) / 2)


def test_roi_l1_ignores_pixels_outside_the_roi():
    fake, real, roi = _roi_case()
    before = roi_l1_loss(fake, real, roi).item()
    real[roi.expand_as(real) == 0] = 100.0
    assert roi_l1_loss(fake, real, roi).item() == before


def test_roi_l1_ignores_images_without_roi():
    fake, real, roi = _roi_case()
    roi[1] = 0
    real[1] = 50.0
    assert roi_l1_loss(fake, real, roi).item() == pytest.approx(2.0)


def test_roi_l1_of_a_batch_without_roi_is_a_connected_zero():
    fake, real, roi = _roi_case()
    roi.zero_()
    loss = roi_l1_loss(fake, real, roi)
    assert loss.item() == 0.0
    loss.backward()
    assert fake.grad is not None
    assert torch.isfinite(fake.grad).all()
    assert (fake.grad == 0).all()


def test_roi_l1_gradient_reaches_only_roi_pixels():
    _, real, roi = _roi_case()
    fake = torch.full_like(real, -1.0, requires_grad=True)  # |fake - real| has a non-zero slope everywhere
    roi_l1_loss(fake, real, roi).backward()
    assert ((fake.grad != 0) == roi.expand_as(fake).bool()).all()


def _features(seed: int, requires_grad: bool = False) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    shapes = [(2, 4, 8, 8), (2, 8, 4, 4), (2, 1, 3, 3)]
    return [torch.randn(shape, generator=generator, requires_grad=requires_grad) for shape in shapes]


def test_feature_matching_uses_the_second_to_last_layer_by_default():
    fake, real = _features(0), _features(1)
    expected = (fake[-2] - real[-2]).square().mean()
    assert feature_matching_loss(fake, real).item() == pytest.approx(expected.item())
    real[0] = real[0] + 10  # other layers do not matter
    real[-1] = real[-1] + 10
    assert feature_matching_loss(fake, real).item() == pytest.approx(expected.item())


def test_feature_matching_averages_the_chosen_layers():
    fake, real = _features(0), _features(1)
    per_layer = [(fake[i] - real[i]).square().mean().item() for i in (0, -2)]
    assert feature_matching_loss(fake, real, layers=(0, -2)).item() == pytest.approx(sum(per_layer) / 2)
    with pytest.raises(ValueError, match="at least one layer"):
        feature_matching_loss(fake, real, layers=())


def test_feature_matching_is_zero_for_equal_features():
    features = _features(0)
    assert feature_matching_loss(features, [f.clone() for f in features]).item() == 0.0


def test_feature_matching_sends_no_gradient_to_the_real_features():
    fake, real = _features(0, requires_grad=True), _features(1, requires_grad=True)
    feature_matching_loss(fake, real).backward()
    assert all(r.grad is None for r in real)
    assert fake[-2].grad is not None
    assert fake[-2].grad.abs().sum() > 0


def test_feature_matching_averages_over_scales():
    fake = [_features(0), _features(2)]
    real = [_features(1), _features(3)]
    expected = (feature_matching_loss(fake[0], real[0]) + feature_matching_loss(fake[1], real[1])) / 2
    assert feature_matching_loss(fake, real).item() == pytest.approx(expected.item())
