"""The map sampler and hand-made map descriptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dermgan.data.prepare import read_prepared
from dermgan.data.semantic_map import Codebook
from dermgan.data.splits import read_splits, splits_path
from dermgan.errors import UserError
from dermgan.generation.maps import MapSampler, load_maps, parse_description, subset_and_shift


@pytest.fixture(scope="module")
def sampler(phantom_32: Path) -> MapSampler:
    return MapSampler(phantom_32, image_size=64)


def test_sampled_maps_come_from_validation_cases_only(sampler: MapSampler, phantom_32: Path):
    splits = read_splits(splits_path(phantom_32))
    rng = np.random.default_rng(0)
    cases = {sampler.sample(rng).source_case for _ in range(200)}
    assert cases and {splits[case] for case in cases} == {"val"}
    val_cases = {row["case_id"] for row in read_prepared(phantom_32).rows if splits[row["case_id"]] == "val"}
    assert len(cases) > len(val_cases) // 2


def test_boxes_move_but_stay_inside_and_subsets_are_never_empty(sampler: MapSampler):
    rng = np.random.default_rng(1)
    original = {row["case_id"]: row for row in sampler.rows}
    moved = 0
    for _ in range(300):
        spec = sampler.sample(rng)
        assert spec.boxes
        for x0, y0, x1, y1 in spec.boxes:
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
        moved += spec.boxes[0] not in [tuple(2 * v for v in b) for b in _boxes(original[spec.source_case])]
    assert moved > 250


def _boxes(row):
    from dermgan.data.manifest import parse_boxes

    return parse_boxes(row["boxes"])


def test_several_boxes_give_random_non_empty_subsets_inside_the_image():
    boxes = [
        (0.0, 0.0, 10.0, 10.0),
        (30.0, 30.0, 40.0, 50.0),
        (50.0, 2.0, 64.0, 9.0),
        (5.0, 40.0, 60.0, 64.0),
    ]
    rng = np.random.default_rng(2)
    kept = []
    for _ in range(300):
        chosen = subset_and_shift(boxes, 64, rng)
        kept.append(len(chosen))
        for x0, y0, x1, y1 in chosen:
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
    assert min(kept) >= 1 and set(kept) == {1, 2, 3, 4}
    assert subset_and_shift([(0.0, 0.0, 64.0, 64.0)], 64, rng) == [(0.0, 0.0, 64.0, 64.0)]


def test_same_seed_same_map_and_overrides_apply(sampler: MapSampler):
    first = sampler.sample(np.random.default_rng(5), "melanoma", "6")
    again = sampler.sample(np.random.default_rng(5), "melanoma", "6")
    assert first == again
    assert first.condition == "melanoma" and first.skin_type == "6"
    assert first != sampler.sample(np.random.default_rng(6), "melanoma", "6")


def test_descriptions_make_maps_and_explain_mistakes():
    codebook = Codebook.build(["melanoma", "acne"])
    [spec] = load_maps(
        '{"condition": "melanoma", "skin_type": 5, "center": [32, 32], "size": 20}', codebook, 64
    )
    assert spec.boxes == [(22.0, 22.0, 42.0, 42.0)] and spec.skin_type == "5"
    semantic = spec.draw(codebook)
    skin_type, condition, roi = codebook.decode(semantic)
    assert (skin_type, condition, int(roi.sum())) == ("5", "melanoma", 400)
    two = load_maps(
        '[{"condition": "acne", "skin_type": 1, "boxes": [[0, 0, 8, 8], [50, 50, 64, 64]]},'
        ' {"condition": "acne", "skin_type": 2, "center": [10, 10], "size": [4, 6]}]',
        codebook,
        64,
    )
    assert [len(s.boxes) for s in two] == [2, 1]
    mistakes = {
        '{"condition": "eczema", "skin_type": 2, "center": [5, 5], "size": 4}': "not in this codebook",
        '{"condition": "acne", "skin_type": 7, "center": [5, 5], "size": 4}': "Fitzpatrick type 1-6",
        '{"condition": "acne", "skin_type": 2, "boxes": [[0, 0, 70, 10]]}': "not inside the 64x64 image",
        '{"condition": "acne", "skin_type": 2}': "either boxes or a center",
        '{"condition": "acne", "skin_type": 2, "center": [5, 5]}': "needs a size",
        '{"condition": "acne", "skin_type": 2, "centre": [5, 5]}': "centre",
        "melanoma on type 5": "is JSON",
    }
    for text, needle in mistakes.items():
        with pytest.raises(UserError, match=needle):
            load_maps(text, codebook, 64)


def test_a_map_png_is_read_back(tmp_path: Path):
    from PIL import Image

    codebook = Codebook.build(["melanoma"])
    [spec] = load_maps('{"condition": "melanoma", "skin_type": 3, "boxes": [[4, 8, 20, 30]]}', codebook, 32)
    Image.fromarray(spec.draw(codebook)).save(tmp_path / "map.png")
    [again] = load_maps(str(tmp_path / "map.png"), codebook, 32)
    assert (again.condition, again.skin_type, again.boxes) == ("melanoma", "3", [(4.0, 8.0, 20.0, 30.0)])
    assert parse_description('{"condition": "melanoma", "skin_type": 3, "center": [1, 1], "size": 2}')
