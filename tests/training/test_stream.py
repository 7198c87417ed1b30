"""The sample stream: the same samples whatever the workers, the resume point or the number of ranks."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from dermgan.data.dataset import PreparedPairs
from dermgan.data.prepare import prepare_dataset
from dermgan.training.stream import SampleStream, StepBatches


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> SampleStream:
    from conftest import small_dataset

    root = tmp_path_factory.mktemp("stream")
    prepare_dataset(
        small_dataset.__wrapped__(root), root / "p", size=32, crops_per_group=2, workers=1, progress=False
    )
    return SampleStream(PreparedPairs(root / "p", None), seed=3, flip=True)


def images_of(loader: DataLoader) -> list[torch.Tensor]:
    return [batch.image for batch in loader]


def test_each_epoch_visits_every_crop_once_in_a_seeded_order(stream: SampleStream):
    n = len(stream)
    first = [stream._index(p) for p in range(n)]
    second = [stream._index(p) for p in range(n, 2 * n)]
    assert sorted(first) == sorted(second) == list(range(n))
    assert first != second, "each epoch is shuffled anew"
    assert first == [SampleStream(stream.pairs, 3, True)._index(p) for p in range(n)]


def test_workers_and_resume_do_not_change_the_batches(stream: SampleStream):
    serial = images_of(DataLoader(stream, batch_sampler=StepBatches(0, 6, 4), num_workers=0))
    parallel = images_of(DataLoader(stream, batch_sampler=StepBatches(0, 6, 4), num_workers=2))
    resumed = images_of(DataLoader(stream, batch_sampler=StepBatches(4, 6, 4), num_workers=0))
    assert all(torch.equal(a, b) for a, b in zip(serial, parallel, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(serial[4:], resumed, strict=True))


def test_ranks_split_each_global_batch(stream: SampleStream):
    whole = list(StepBatches(0, 3, 4))
    halves = [list(StepBatches(0, 3, 4, rank=r, world_size=2)) for r in range(2)]
    for step in range(3):
        assert halves[0][step] + halves[1][step] == whole[step]
        assert not set(halves[0][step]) & set(halves[1][step])
    with pytest.raises(ValueError, match="not divisible"):
        StepBatches(0, 3, 3, rank=0, world_size=2)


def test_flips_are_seeded_by_position_and_shared_by_map_image_and_mask(stream: SampleStream):
    flipped = sum(not torch.equal(stream[p].image, stream.pairs[stream._index(p)].image) for p in range(24))
    assert 0 < flipped < 24
    for position in range(8):
        item = stream[position]
        assert torch.equal(item.map[1:].ne(-1).any(dim=0), item.roi_mask[0].bool())
        assert torch.equal(item.image, stream[position].image)
