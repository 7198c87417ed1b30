"""DermGAN learns on the phantom: for held-out maps, skin of the requested tone and lesions in the boxes.

The skin type is a constant channel of the map, so even an untrained U-Net's colour moves with it; these
checks compare each generated image with the real image of the same map instead, before and after
training the same generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dermgan.conditions import ITA_BANDS, ita_degrees
from dermgan.data.dataset import PreparedPairs
from dermgan.data.skin import to_lab
from dermgan.training.config import load_config
from dermgan.training.samples import to_uint8
from dermgan.training.trainer import Trainer

STEPS = 500  # about 30 s on 2 cores


def _healthy_lab(lab: np.ndarray, roi: np.ndarray) -> np.ndarray:
    return np.median(lab[~roi], axis=0)


def fidelity(generator: torch.nn.Module, pairs: PreparedPairs) -> dict[str, float]:
    """Tone and lesion fidelity of the generator's images for every crop of `pairs`, against the real ones."""
    items = [pairs[index] for index in range(len(pairs))]
    with torch.no_grad():
        fakes = to_uint8(generator.eval()(torch.stack([item.map for item in items])))
    reals = to_uint8(torch.stack([item.image for item in items]))
    ita_error, in_band, roi_error, roi_contrast = [], [], [], []
    for fake, real, item, row in zip(fakes, reals, items, pairs.rows, strict=True):
        roi = item.roi_mask[0].numpy().astype(bool)
        fake_lab, real_lab = to_lab(fake), to_lab(real)
        healthy, real_healthy = _healthy_lab(fake_lab, roi), _healthy_lab(real_lab, roi)
        ita = ita_degrees(healthy[0], healthy[2])
        ita_error.append(abs(ita - ita_degrees(real_healthy[0], real_healthy[2])))
        low, high = ITA_BANDS[int(row["skin_type"])]
        in_band.append(low < ita <= high)
        roi_error.append(np.linalg.norm(fake_lab - real_lab, axis=-1)[roi].mean())
        from_skin = np.linalg.norm(fake_lab - healthy, axis=-1)
        roi_contrast.append(from_skin[roi].mean() / max(from_skin[~roi].mean(), 1e-6))
    return {
        "ita_error": float(np.mean(ita_error)),
        "in_band": float(np.mean(in_band)),
        "roi_error": float(np.mean(roi_error)),
        "roi_contrast": float(np.median(roi_contrast)),
    }


@pytest.fixture(scope="module")
def before_and_after(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory):
    config = load_config(
        "demo-cpu",
        ["data.size=32", f"train.max_steps={STEPS}", "train.num_workers=0", "train.sample_every=100000"],
    )
    config.data.path = str(phantom_32)
    trainer = Trainer(config, tmp_path_factory.mktemp("learning"), resume=False, progress=False)
    held_out = PreparedPairs(phantom_32, "test", size=32)
    before = fidelity(trainer.generator, held_out)
    trainer.fit()
    return before, fidelity(trainer.generator, held_out)


def test_skin_tone_of_held_out_maps_is_learned(before_and_after):
    before, after = before_and_after
    assert after["ita_error"] < 0.4 * before["ita_error"], (before, after)
    assert after["ita_error"] < 10.0, after
    assert before["in_band"] < 0.5 <= after["in_band"], (before, after)


def test_lesions_appear_inside_the_boxes(before_and_after):
    before, after = before_and_after
    assert after["roi_error"] < 0.5 * before["roi_error"], (before, after)
    assert after["roi_contrast"] > 2.0, after
