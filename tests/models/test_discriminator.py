"""PatchGAN discriminators: pix2pix's layer plan, the 70x70 receptive field, activations, multi-scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dermgan.models import MultiScaleDiscriminator, PatchDiscriminator, init_weights, receptive_field

PAIR_CHANNELS = 5 + 3


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [layer for layer in module.modules() if isinstance(layer, nn.Conv2d)]


@pytest.mark.parametrize(("n_layers", "expected"), [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_analytically(n_layers, expected):
    assert receptive_field(n_layers) == expected


@pytest.mark.parametrize("n_layers", [2, 3])
def test_receptive_field_empirically_from_the_gradient_of_one_logit(n_layers):
    """The input pixels that one interior logit depends on span receptive_field(n_layers) on each side."""
    torch.manual_seed(0)
    # Eval mode: batch statistics would make every logit depend on every pixel.
    discriminator = init_weights(PatchDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=n_layers), gain=0.5).eval()
    pair = torch.randn(1, PAIR_CHANNELS, 128, 128, requires_grad=True)
    logits = discriminator(pair)[-1]
    row, column = logits.shape[-2] // 2, logits.shape[-1] // 2
    logits[0, 0, row, column].backward()
    support = pair.grad.abs().sum(dim=(0, 1)) > 0
    rows = support.any(dim=1).nonzero().flatten()
    columns = support.any(dim=0).nonzero().flatten()
    assert rows.min() > 0 and rows.max() < 127, "the patch must lie in the interior"
    assert rows.max() - rows.min() + 1 == receptive_field(n_layers)
    assert columns.max() - columns.min() + 1 == receptive_field(n_layers)
    assert support[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1].all()


@pytest.mark.parametrize("n_layers", [1, 3])
def test_returns_every_block_activation_ending_with_the_patch_logits(n_layers):
    discriminator = PatchDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=n_layers)
    activations = discriminator(torch.randn(2, PAIR_CHANNELS, 64, 64))
    assert len(activations) == n_layers + 2
    assert activations[-1].shape[:2] == (2, 1)
    assert activations[-2].shape[1] == 4 * min(2**n_layers, 8)


def test_pix2pix_layer_plan_and_30x30_patches_at_256_px():
    """256 px -> 128, 64, 32 (halving convs), 31 (stride-1 conv), 30 (logits); widths ndf, 2, 4, 8 ndf."""
    discriminator = PatchDiscriminator(PAIR_CHANNELS, ndf=2, n_layers=3)
    activations = discriminator(torch.randn(1, PAIR_CHANNELS, 256, 256))
    assert [tuple(a.shape[1:]) for a in activations] == [
        (2, 128, 128),
        (4, 64, 64),
        (8, 32, 32),
        (16, 31, 31),
        (1, 30, 30),
    ]


def test_widths_stop_growing_at_8_ndf():
    discriminator = PatchDiscriminator(PAIR_CHANNELS, ndf=2, n_layers=5)
    assert [conv.out_channels for conv in _convs(discriminator)] == [2, 4, 8, 16, 16, 16, 1]


def test_pix2pix_parameter_count():
    """pix2pix's basic discriminator on 6-channel pairs (ndf 64, 3 layers, batch norm): 2,768,705."""
    with torch.device("meta"):
        discriminator = PatchDiscriminator(6)
    assert sum(parameter.numel() for parameter in discriminator.parameters()) == 2_768_705


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_norm_and_bias_follow_pix2pix(norm):
    """No norm on the first block; the normalised convs have no bias (the norm would cancel it)."""
    discriminator = PatchDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=3, norm=norm)
    norm_type = nn.BatchNorm2d if norm == "batch" else nn.InstanceNorm2d
    blocks = list(discriminator.blocks)
    assert not any(isinstance(layer, norm_type) for layer in blocks[0].modules())
    assert all(any(isinstance(layer, norm_type) for layer in block.modules()) for block in blocks[1:-1])
    has_bias = [conv.bias is not None for conv in _convs(discriminator)]
    assert has_bias == [True, False, False, False, True]


def test_refuses_zero_layers():
    with pytest.raises(ValueError, match="n_layers"):
        PatchDiscriminator(PAIR_CHANNELS, n_layers=0)


def test_multi_scale_judges_the_pair_at_halved_resolutions():
    torch.manual_seed(0)
    discriminator = MultiScaleDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=2, num_scales=3).eval()
    pair = torch.randn(2, PAIR_CHANNELS, 64, 64)
    outputs = discriminator(pair)
    assert len(outputs) == 3
    assert all(len(activations) == 2 + 2 for activations in outputs)
    assert [activations[-1].shape[-1] for activations in outputs] == [14, 6, 2]
    halved = nn.functional.avg_pool2d(pair, 3, stride=2, padding=1, count_include_pad=False)
    for expected, actual in zip(discriminator.discriminators[1](halved), outputs[1], strict=True):
        torch.testing.assert_close(actual, expected)


def test_multi_scale_discriminators_do_not_share_weights():
    discriminator = MultiScaleDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=2, num_scales=2)
    first, second = (scale.blocks[0][0].weight for scale in discriminator.discriminators)
    assert first.data_ptr() != second.data_ptr()
    assert not torch.equal(first, second)


def test_channels_last_and_bf16_autocast():
    torch.manual_seed(0)
    discriminator = PatchDiscriminator(PAIR_CHANNELS, ndf=4, n_layers=3).eval()
    pair = torch.randn(2, PAIR_CHANNELS, 64, 64)
    expected = discriminator(pair)[-1]
    discriminator.to(memory_format=torch.channels_last)
    pair = pair.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(discriminator(pair)[-1], expected, atol=1e-5, rtol=1e-4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = discriminator(pair)[-1]
    assert logits.dtype == torch.bfloat16
    torch.testing.assert_close(logits.float(), expected, atol=0.05, rtol=0.05)
