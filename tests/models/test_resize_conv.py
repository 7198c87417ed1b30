"""The folded resize-convolution computes exactly what upsampling then convolving computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dermgan.models.resize_conv import ResizeConv2d


@pytest.mark.parametrize("shape", [(2, 5, 4, 4), (1, 3, 7, 5), (1, 8, 1, 1), (1, 3, 16, 16), (3, 2, 12, 10)])
def test_equals_nearest_upsample_then_conv3x3_with_gradients(shape):
    """Small inputs run as written, inputs of fold_from_pixels (256) and more through the folded kernel."""
    torch.manual_seed(0)
    folded = ResizeConv2d(shape[1], 6)
    reference = nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(shape[1], 6, 3, padding=1)
    )
    reference[1].load_state_dict(folded.state_dict())
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    folded, reference = folded.double(), reference.double()

    out, expected = folded(x), reference(x)
    torch.testing.assert_close(out, expected)
    gradient = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, folded.weight, folded.bias), gradient)
    expected_grads = torch.autograd.grad(expected, (x, reference[1].weight, reference[1].bias), gradient)
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want)


def test_has_the_parameters_of_a_3x3_conv():
    layer = ResizeConv2d(4, 2, bias=False)
    assert [tuple(p.shape) for p in layer.parameters()] == [(2, 4, 3, 3)]
    assert list(layer.state_dict()) == ["weight"]


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (1, 3, 16, 16)])
def test_folded_kernel_pads_like_the_conv_it_folds(mode, shape):
    """Both forms (small inputs as written, large ones folded) pad the upsampled input by `mode`."""
    torch.manual_seed(0)
    layer = ResizeConv2d(shape[1], 4, padding_mode=mode).double()
    x = torch.randn(shape, dtype=torch.float64)
    expected = nn.functional.conv2d(
        nn.functional.pad(nn.functional.interpolate(x, scale_factor=2, mode="nearest"), (1,) * 4, mode=mode),
        layer.weight,
        layer.bias,
    )
    torch.testing.assert_close(layer(x), expected)
