"""The resized-photo cache: keyed by content and size, so renames hit it and edits miss it."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from conftest import make_photo
from dermgan.classification.cache import cached_images
from dermgan.errors import UserError


def test_the_cache_is_keyed_by_content_and_size(tmp_path):
    original = make_photo(tmp_path / "a.png", width=120, height=90)
    renamed = shutil.copy(original, tmp_path / "b.png")
    edited = make_photo(tmp_path / "c.png", width=120, height=90, lesion=(10, 10, 30, 30))
    cache = tmp_path / "cache"
    first, second, third = cached_images([original, renamed, edited], 32, cache, workers=1, progress=False)
    assert first == second != third
    assert cached_images([original], 48, cache, workers=1, progress=False)[0] != first
    with Image.open(first) as square:
        assert square.size == (32, 32)
    first.write_bytes(b"")  # a cache hit does not decode the photo again
    assert cached_images([renamed], 32, cache, workers=1, progress=False) == [first]


def test_unreadable_photos_are_named(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match=r"1 photo\(s\) cannot be used:\n  .*broken.jpg: is not an image"):
        cached_images(
            [make_photo(tmp_path / "ok.png"), broken], 32, tmp_path / "cache", workers=1, progress=False
        )
