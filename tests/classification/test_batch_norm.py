"""Batch-norm statistics recomputed from the final weights: the exact average, and nothing else moved."""

from __future__ import annotations

import torch
from torch import nn

from dermgan.classification.batch_norm import recompute_batch_norm


def test_the_running_statistics_become_those_of_the_images_and_nothing_else_changes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Dropout(0.5)).train()
    model[1].running_mean.fill_(5.0)  # stale, as after fast-moving weights
    images = [(torch.randn(3, 8, 8) * 3 + 1, 0) for _ in range(8)]
    weights = {name: value.clone() for name, value in model.named_parameters()}
    random_state = torch.get_rng_state()

    recompute_batch_norm(model, images, torch.device("cpu"), batch_size=4, workers=0)

    with torch.no_grad():
        features = model[0](torch.stack([image for image, _ in images]))
    assert torch.allclose(model[1].running_mean, features.mean(dim=(0, 2, 3)), atol=1e-5)
    assert model[1].momentum == 0.1 and model.training and model[2].training
    assert all(torch.equal(value, weights[name]) for name, value in model.named_parameters())
    assert torch.equal(torch.get_rng_state(), random_state)
