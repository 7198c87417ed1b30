"""What the classifier sees: the whole photo or a square around its lesion, normalised for its weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import LESION_RGB, SKIN_RGB, make_photo
from dermgan.classification.cache import cached_images
from dermgan.classification.config import ClassifierConfig
from dermgan.classification.examples import Example
from dermgan.classification.framing import Framing, roi_window
from dermgan.classification.tensors import Normalise, labelled
from dermgan.training.config import load_config

ROI = Framing("roi", margin=1.0)


def test_the_roi_window_is_a_square_around_the_largest_group_of_boxes_inside_the_photo():
    assert roi_window([(100, 100, 140, 120)], 400, 300, margin=1.0) == (80, 70, 160, 150)
    # too small a lesion: a fifth of the shorter side; too close to the edge: moved inside
    assert roi_window([(0, 0, 4, 4)], 400, 300, margin=1.0) == (0, 0, 60, 60)
    # adjacent boxes: their union; lesions far apart: the largest group, moved inside the photo
    assert roi_window([(100, 100, 140, 140), (150, 100, 190, 140)], 400, 300, 1.0) == (55, 30, 235, 210)
    assert roi_window([(10, 10, 50, 50), (300, 200, 390, 290)], 400, 300, 1.0) == (220, 120, 400, 300)
    # wider than the photo allows: the photo's shorter side
    assert roi_window([(0, 0, 390, 60)], 400, 300, margin=1.0) == (45, 0, 345, 300)
    assert roi_window([], 400, 300, margin=1.0) == (0, 0, 400, 300)


def _colour(square) -> np.ndarray:
    with Image.open(square) as image:
        return np.array(image.convert("RGB")).reshape(-1, 3).astype(float)


def test_roi_inputs_show_the_lesion_large_where_the_whole_photo_shows_it_small(tmp_path):
    lesion = (200, 150, 230, 180)  # 30 px of a 320 x 240 photo
    photo = make_photo(tmp_path / "p.png", width=320, height=240, lesion=lesion)
    cache = tmp_path / "cache"
    (whole,) = cached_images([photo], 32, cache, workers=1, progress=False)
    (roi,) = cached_images([photo], 32, cache, framing=ROI, boxes=[[lesion]], workers=1, progress=False)

    def lesion_share(square) -> float:
        pixels = _colour(square)
        near = np.linalg.norm(pixels - LESION_RGB, axis=1) < np.linalg.norm(pixels - SKIN_RGB, axis=1)
        return float(near.mean())

    assert lesion_share(whole) < 0.02
    assert 0.15 < lesion_share(roi) < 0.35  # (1 / (1 + margin))^2 = 0.25 of the square
    elsewhere = cached_images([photo], 32, cache, framing=ROI, boxes=[[(0, 0, 20, 20)]], workers=1)
    assert elsewhere[0] != roi and lesion_share(elsewhere[0]) == 0.0  # the boxes are part of the key


def test_a_photo_without_boxes_is_seen_whole_under_roi(tmp_path):
    photo = make_photo(tmp_path / "p.png", width=90, height=60)
    (whole,) = cached_images([photo], 32, tmp_path / "cache", workers=1, progress=False)
    (roi,) = cached_images([photo], 32, tmp_path / "cache", framing=ROI, boxes=[[]], workers=1)
    assert whole != roi
    assert np.array_equal(_colour(whole), _colour(roi))


@pytest.mark.parametrize(
    ("arch", "mean", "std"),
    [("efficientnet_lite0", 127 / 255, 128 / 255), ("mobilenet_v2", 0.485, 0.229)],
)
def test_inputs_are_normalised_as_the_architectures_imagenet_weights_expect(tmp_path, arch, mean, std):
    photo = make_photo(tmp_path / "p.png", lesion=None)
    example = Example(photo, "nevus", "", "c", "train", "real", 1, tmp_path / "m.csv", boxes=())
    config = load_config(
        None, [f"model.arch={arch}", "data.size=32", f"data.cache={tmp_path}/cache"], ClassifierConfig
    )
    image, label = labelled([example], ["nevus"], config, progress=False)[0]
    assert label == 0
    expected = (torch.tensor(SKIN_RGB[0] / 255.0) - mean) / std
    assert torch.allclose(image[0], torch.full((32, 32), float(expected)), atol=1e-5)


def test_the_config_key_frames_the_network_input_around_the_examples_boxes(tmp_path):
    photo = make_photo(tmp_path / "p.png", width=320, height=240, lesion=(200, 150, 230, 180))
    example = Example(
        photo, "nevus", "", "c", "train", "real", 1, tmp_path / "m.csv", boxes=((200, 150, 230, 180),)
    )
    centres = {}
    for framing in ("photo", "roi"):
        overrides = [f"data.input={framing}", "data.size=32", f"data.cache={tmp_path}/cache"]
        image, _ = labelled([example], ["nevus"], load_config(None, overrides, ClassifierConfig), False)[0]
        centres[framing] = image[:, 16, 16]
    lesion, skin = (
        Normalise()(torch.tensor(c).view(3, 1, 1) / 255.0).flatten() for c in (LESION_RGB, SKIN_RGB)
    )
    assert torch.allclose(centres["roi"], lesion, atol=0.05)
    assert torch.allclose(centres["photo"], skin, atol=0.05)
