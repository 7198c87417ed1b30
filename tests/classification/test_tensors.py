"""The training stream: seeded by position, augmented, and class-balanced on request."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from PIL import Image

from dermgan.classification.config import ClassifierData
from dermgan.classification.tensors import LabelledImages, TrainingStream


def _images(tmp_path, labels: list[int]) -> LabelledImages:
    files = []
    for index in range(len(labels)):
        pixels = np.random.default_rng(index).integers(0, 255, (16, 16, 3), dtype=np.uint8)
        files.append(tmp_path / f"{index}.png")
        Image.fromarray(pixels).save(files[-1])
    return LabelledImages(files, labels)


def test_each_position_gives_the_same_augmented_image_and_epochs_visit_every_image(tmp_path):
    images = _images(tmp_path, [0, 0, 1, 1, 2])
    stream, again = (
        TrainingStream(images, ClassifierData(), seed=3),
        TrainingStream(images, ClassifierData(), 3),
    )
    assert all(torch.equal(stream[p][0], again[p][0]) for p in (4, 0, 7))
    assert sorted(stream.order(p) for p in range(5)) == [0, 1, 2, 3, 4]
    plain = images[stream.order(0)][0]
    assert not torch.equal(stream[0][0], plain)  # jittered


def test_balanced_sampling_draws_a_rare_class_as_often_as_a_common_one(tmp_path):
    images = _images(tmp_path, [0] * 9 + [1])
    balanced = TrainingStream(images, ClassifierData(balanced=True), seed=0)
    plain = TrainingStream(images, ClassifierData(), seed=0)
    drawn = Counter(images.labels[balanced.order(p)] for p in range(2000))
    assert 0.45 < drawn[1] / 2000 < 0.55
    assert Counter(images.labels[plain.order(p)] for p in range(2000))[1] == 200


def test_a_synthetic_share_cap_draws_synthetic_images_at_most_that_often(tmp_path):
    images = _images(tmp_path, [0] * 10)
    images.synthetic = [True] * 8 + [False] * 2
    capped = TrainingStream(images, ClassifierData(synthetic_share=0.25), seed=0)
    drawn = sum(images.synthetic[capped.order(p)] for p in range(4000)) / 4000
    assert 0.22 < drawn < 0.28
    assert capped[0][2] == images.synthetic[capped.order(0)]
    loose = TrainingStream(images, ClassifierData(synthetic_share=0.9), seed=0)
    assert sorted(loose.order(p) for p in range(10)) == list(range(10))  # below the cap: a plain shuffle


def test_synthetic_images_weigh_in_the_loss_as_configured():
    from dermgan.classification.trainer import weighted_cross_entropy

    logits = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2] * 2)
    synthetic = torch.tensor([False, False, False, True, True, True])
    real_only = torch.nn.functional.cross_entropy(logits[:3], labels[:3])
    assert torch.allclose(weighted_cross_entropy(logits, labels, synthetic, 0.0), real_only)
    everything = torch.nn.functional.cross_entropy(logits, labels)
    assert torch.allclose(weighted_cross_entropy(logits, labels, synthetic, 1.0), everything)
