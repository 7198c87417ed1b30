"""The U-Net generator's architecture (pix2pix's unet_256 scaled to the size), its EMA and weight init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dermgan.models import EMA, UNetGenerator, init_weights
from dermgan.models.resize_conv import ResizeConv2d

MAP_CHANNELS = 5


def _count(module: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(layer, kind) for layer in module.modules())


def _parameter_count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def _nyquist_share(image: torch.Tensor) -> float:
    """Share of an image's non-constant energy at the period-2 frequencies, where checkerboards live."""
    power = torch.fft.fft2(image.double()).abs() ** 2
    power[..., 0, 0] = 0
    height, width = image.shape[-2:]
    nyquist = power[..., height // 2, 0] + power[..., 0, width // 2] + power[..., height // 2, width // 2]
    return (nyquist.sum() / power.sum()).item()


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("upsample", ["resize_conv", "transposed"])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_output_is_an_image_of_the_input_size_in_tanh_range(size, upsample, norm):
    torch.manual_seed(0)
    generator = UNetGenerator(MAP_CHANNELS, size=size, ngf=4, upsample=upsample, norm=norm)
    # Weights large enough to saturate tanh somewhere, so the range check has teeth.
    init_weights(generator, gain=1.0)
    image = generator(torch.randn(2, MAP_CHANNELS, size, size))
    assert image.shape == (2, 3, size, size)
    assert generator.depth == math.log2(size)
    assert image.abs().max() <= 1.0
    assert image.abs().max() > 0.9


@pytest.mark.parametrize("upsample", ["resize_conv", "transposed"])
def test_full_depth_at_256_px_and_batch_1_in_training_mode(upsample):
    """8 levels bring 256 px to a 1x1 bottleneck; batch norm there would fail at batch 1, so it has none."""
    generator = UNetGenerator(MAP_CHANNELS, size=256, ngf=2, upsample=upsample).train()
    image = generator(torch.randn(1, MAP_CHANNELS, 256, 256))
    assert generator.depth == 8
    assert image.shape == (1, 3, 256, 256)
    assert _count(generator.encoder[-1], nn.BatchNorm2d) == 0


def test_upsampling_layers_per_mode():
    resize = UNetGenerator(MAP_CHANNELS, size=64, ngf=4, upsample="resize_conv")
    transposed = UNetGenerator(MAP_CHANNELS, size=64, ngf=4, upsample="transposed")
    assert _count(resize, nn.ConvTranspose2d) == 0
    assert _count(resize, ResizeConv2d) == resize.depth
    assert _count(transposed, nn.ConvTranspose2d) == transposed.depth
    assert _count(transposed, ResizeConv2d) == 0


def test_parameter_counts_differ_by_the_kernel_area_of_the_upsampling_convs():
    """Each upsampling conv has in*out*16 weights transposed (4x4) and in*out*9 resize-conv (3x3).

    At 32 px with ngf 4 the encoder widths are 4, 8, 16, 32, 32; the decoder convs map (innermost first)
    32->32, 64->16, 32->8, 16->4, 8->3, so sum(in*out) = 1024 + 1024 + 256 + 64 + 24 = 2392.
    """
    resize = UNetGenerator(MAP_CHANNELS, size=32, ngf=4, upsample="resize_conv")
    transposed = UNetGenerator(MAP_CHANNELS, size=32, ngf=4, upsample="transposed")
    assert _parameter_count(transposed) - _parameter_count(resize) == 2392 * (16 - 9)


def test_pix2pix_unet_256_parameter_count():
    """pix2pix's unet_256 (3 -> 3 channels, ngf 64, batch norm) has 54,413,955 parameters."""
    with torch.device("meta"):
        generator = UNetGenerator(3, 3, size=256, ngf=64, upsample="transposed")
    assert _parameter_count(generator) == 54_413_955


@pytest.mark.parametrize(("size", "expected"), [(256, 3), (128, 2), (64, 1), (32, 0)])
def test_dropout_only_in_the_inner_8ngf_decoder_blocks(size, expected):
    generator = UNetGenerator(MAP_CHANNELS, size=size, ngf=2, dropout=0.5)
    assert _count(generator, nn.Dropout) == expected
    assert _count(UNetGenerator(MAP_CHANNELS, size=size, ngf=2, dropout=0.0), nn.Dropout) == 0


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_conv_biases_only_where_no_norm_cancels_them(norm):
    """The last conv (feeding Tanh) has a bias; the outer and innermost encoder convs, which no norm
    follows, have one with instance norm as in pix2pix; every conv a norm follows has none."""
    generator = UNetGenerator(MAP_CHANNELS, size=32, ngf=4, norm=norm)
    convs = [layer for layer in generator.modules() if isinstance(layer, nn.Conv2d)]
    with_bias = [conv.bias is not None for conv in convs]
    unnormalised = norm == "instance"
    depth = generator.depth
    assert with_bias[:depth] == [unnormalised, *[False] * (depth - 2), unnormalised]
    assert with_bias[depth:] == [*[False] * (depth - 1), True]


@pytest.mark.parametrize("size", [48, 16, 0, 100])
def test_sizes_that_are_not_powers_of_two_from_32_are_refused(size):
    with pytest.raises(ValueError, match="power of two"):
        UNetGenerator(MAP_CHANNELS, size=size)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"upsample": "bilinear"}, "upsample"), ({"norm": "group"}, "norm"), ({"dropout": 1.0}, "dropout")],
)
def test_bad_options_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        UNetGenerator(MAP_CHANNELS, size=32, ngf=2, **arguments)


def test_input_not_divisible_by_the_depth_is_refused():
    generator = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    with pytest.raises(ValueError, match="divisible by 32"):
        generator(torch.randn(1, MAP_CHANNELS, 48, 32))


def test_channels_last_gives_the_same_image():
    torch.manual_seed(0)
    generator = UNetGenerator(MAP_CHANNELS, size=64, ngf=4).eval()
    maps = torch.randn(2, MAP_CHANNELS, 64, 64)
    expected = generator(maps)
    generator.to(memory_format=torch.channels_last)
    image = generator(maps.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(image, expected, atol=1e-5, rtol=1e-4)


def test_bf16_autocast_forward_and_backward():
    torch.manual_seed(0)
    generator = UNetGenerator(MAP_CHANNELS, size=32, ngf=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        image = generator(torch.randn(2, MAP_CHANNELS, 32, 32))
    assert image.dtype == torch.bfloat16
    assert image.shape == (2, 3, 32, 32)
    image.float().square().mean().backward()
    gradient = generator.encoder[0].weight.grad
    assert gradient is not None
    assert torch.isfinite(gradient).all()
    assert gradient.abs().sum() > 0


def test_resize_conv_has_no_checkerboard_where_transposed_conv_paints_one():
    """On a constant map an untrained transposed-conv decoder puts most of its energy at period 2."""
    shares = {}
    for upsample in ("resize_conv", "transposed"):
        torch.manual_seed(0)
        generator = init_weights(UNetGenerator(4, size=64, ngf=8, upsample=upsample)).eval()
        with torch.no_grad():
            shares[upsample] = _nyquist_share(generator(torch.ones(1, 4, 64, 64))[0])
    assert shares["transposed"] > 0.5
    assert shares["resize_conv"] < 0.05


def test_init_weights_is_pix2pix_normal():
    torch.manual_seed(0)
    generator = init_weights(UNetGenerator(MAP_CHANNELS, size=32, ngf=16, norm="batch"))
    conv_weights = torch.cat(
        [layer.weight.flatten() for layer in generator.modules() if isinstance(layer, nn.Conv2d)]
    )
    norms = [layer for layer in generator.modules() if isinstance(layer, nn.BatchNorm2d)]
    norm_scales = torch.cat([layer.weight.flatten() for layer in norms])
    biases = [layer.bias for layer in generator.modules() if getattr(layer, "bias", None) is not None]
    assert abs(conv_weights.mean().item()) < 1e-3
    assert conv_weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert norm_scales.mean().item() == pytest.approx(1.0, abs=0.005)
    assert norm_scales.std().item() == pytest.approx(0.02, rel=0.2)
    assert biases
    assert all((bias == 0).all() for bias in biases)


def _shifted_copy(model: nn.Module, shift: float) -> nn.Module:
    """The same architecture with every parameter shifted and the BN statistics changed."""
    other = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(shift)
        other.train()(torch.randn(2, MAP_CHANNELS, 32, 32))
    return other


def test_ema_with_decay_0_follows_the_model_exactly():
    torch.manual_seed(0)
    model = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    ema = EMA(model, decay=0.0)
    trained = _shifted_copy(model, 0.25)
    ema.update(trained)
    for name, tensor in trained.state_dict().items():
        assert torch.equal(ema.module.state_dict()[name], tensor), name


def test_ema_with_decay_half_is_the_midpoint_after_one_update_and_copies_buffers():
    torch.manual_seed(0)
    model = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    start = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    ema = EMA(model, decay=0.5)
    trained = _shifted_copy(model, 0.25)
    ema.update(trained)
    shadow = dict(ema.module.named_parameters())
    for name, parameter in trained.named_parameters():
        torch.testing.assert_close(shadow[name], (start[name] + parameter) / 2)
    for (name, shadow_buffer), live_buffer in zip(ema.module.named_buffers(), trained.buffers(), strict=True):
        assert torch.equal(shadow_buffer, live_buffer), name
    assert not any(parameter.requires_grad for parameter in ema.module.parameters())


def test_ema_state_round_trips_into_a_fresh_generator():
    torch.manual_seed(0)
    model = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    ema = EMA(model, decay=0.9)
    ema.update(_shifted_copy(model, 1.0))
    restored = EMA(UNetGenerator(MAP_CHANNELS, size=32, ngf=2), decay=0.9)
    restored.load_state_dict(ema.state_dict())
    fresh = UNetGenerator(MAP_CHANNELS, size=32, ngf=2)
    fresh.load_state_dict(ema.state_dict())
    for name, tensor in ema.state_dict().items():
        assert torch.equal(restored.state_dict()[name], tensor), name


def test_ema_refuses_a_decay_of_1():
    with pytest.raises(ValueError, match="decay"):
        EMA(UNetGenerator(MAP_CHANNELS, size=32, ngf=2), decay=1.0)


def test_reflect_padding_paints_no_frame_on_a_constant_map():
    """A map without boxes is constant: with zero padding the border is the one thing that varies, so the
    output changes toward the edges; with reflect padding nothing varies and the image is flat."""
    constant = torch.full((1, 3, 32, 32), 0.3)
    spread = {}
    for padding in ("zeros", "reflect"):
        torch.manual_seed(0)
        generator = init_weights(UNetGenerator(3, size=32, ngf=4, padding=padding)).eval()
        with torch.no_grad():
            spread[padding] = generator(constant).std(dim=(2, 3)).max().item()
    assert spread["zeros"] > 1e-3
    assert spread["reflect"] < 1e-5
