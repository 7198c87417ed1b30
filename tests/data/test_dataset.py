"""The torch dataset: tensors in range, one flip for all three, nearest-only map resizing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dermgan.data.dataset import PreparedPairs
from dermgan.data.prepare import prepare_dataset
from dermgan.errors import UserError


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    from conftest import small_dataset

    root = tmp_path_factory.mktemp("pairs")
    manifest = small_dataset.__wrapped__(root)
    prepare_dataset(manifest, root / "prepared", size=64, crops_per_group=2, workers=1, progress=False)
    return root / "prepared"


def lesion_mask(image: torch.Tensor) -> torch.Tensor:
    return image.mean(dim=0) < -0.2


def test_items_are_tensors_in_range_with_labels(prepared: Path):
    pairs = PreparedPairs(prepared, "train")
    item = pairs[0]
    assert item.map.shape == item.image.shape == (3, 64, 64) and item.roi_mask.shape == (1, 64, 64)
    assert item.image.min() >= -1 and item.image.max() <= 1 and item.map.min() >= -1
    assert set(item.roi_mask.unique().tolist()) == {0.0, 1.0}
    row = pairs.rows[0]
    assert pairs.codebook.conditions[item.condition] == row["condition"]
    assert pairs.codebook.skin_types[item.skin_type] == row["skin_type"]


def test_splits_partition_the_crops(prepared: Path):
    sizes = {split: len(PreparedPairs(prepared, split)) for split in ("train", "test")}
    assert sum(sizes.values()) == len(PreparedPairs(prepared, None)) == 24
    with pytest.raises(UserError, match="no crops in split 'val'"):
        PreparedPairs(prepared, "val")


def test_flips_are_identical_for_map_image_and_mask(prepared: Path):
    plain = PreparedPairs(prepared, None)
    flipping = PreparedPairs(prepared, None, flip=True, generator=torch.Generator().manual_seed(0))
    flipped_somewhere = 0
    for index in range(len(plain)):
        a, b = plain[index], flipping[index]
        roi = b.roi_mask[0].bool()
        assert torch.equal(b.map[1:].ne(-1).any(dim=0), roi), "map ROI follows the mask"
        assert lesion_mask(b.image)[roi].float().mean() > 0.8, "image lesion follows the mask"
        flipped_somewhere += not torch.equal(a.image, b.image)
    assert flipped_somewhere > 0


def test_resizing_keeps_map_codes_exact(prepared: Path):
    pairs = PreparedPairs(prepared, None, size=40)
    codes = {round(v) for v in (np.array(list(pairs.codebook.tone_codes.values())) / 127.5 - 1.0) * 1000}
    gb = {round(v / 127.5 * 1000 - 1000) for pair in pairs.codebook.condition_codes.values() for v in pair}
    item = pairs[3]
    assert item.map.shape == (3, 40, 40)
    assert {round(v * 1000) for v in item.map[0].unique().tolist()} <= codes
    assert {round(v * 1000) for v in item.map[1:].unique().tolist()} <= gb | {-1000}


def test_onehot_encoding(prepared: Path):
    pairs = PreparedPairs(prepared, None, encoding="onehot")
    item = pairs[0]
    assert item.map.shape == (1 + len(pairs.codebook.conditions), 64, 64)
    assert torch.equal(item.map[1 + item.condition].bool(), item.roi_mask[0].bool())
