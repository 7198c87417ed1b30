"""The codebook round-trips exactly and keeps every code distinct."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from dermgan.data.semantic_map import Codebook
from dermgan.errors import UserError

CONDITIONS = [f"condition {k}" for k in range(27)]


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.build(CONDITIONS, ["1-2", "5-6", "3"])


def test_every_condition_and_skin_type_round_trips(codebook: Codebook):
    rng = np.random.default_rng(0)
    for skin_type, condition in itertools.product(codebook.skin_types, codebook.conditions):
        roi = rng.random((16, 20)) < 0.3
        decoded = codebook.decode(codebook.encode(skin_type, condition, roi))
        assert decoded[:2] == (skin_type, condition)
        assert np.array_equal(decoded[2], roi)


def test_codes_are_distinct_non_zero_and_tone_is_ordinal(codebook: Codebook):
    assert len(set(codebook.condition_codes.values())) == 27
    assert all(g > 0 and b > 0 for g, b in codebook.condition_codes.values())
    assert codebook.skin_types == ["1", "1-2", "2", "3", "4", "5", "5-6", "6", ""]
    tones = [codebook.tone_codes[t] for t in codebook.skin_types[:-1]]
    assert tones == sorted(tones) and len(set(tones)) == len(tones)
    assert codebook.tone_codes[""] == 0


def test_a_map_without_roi_decodes_to_no_condition(codebook: Codebook):
    empty = np.zeros((4, 4), dtype=bool)
    assert codebook.decode(codebook.encode("4", CONDITIONS[0], empty))[:2] == ("4", None)


def test_invalid_maps_and_labels_are_refused(codebook: Codebook):
    semantic = codebook.encode("2", CONDITIONS[3], np.ones((4, 4), dtype=bool))
    semantic[0, 0, 1] = 1
    with pytest.raises(ValueError, match="not one condition"):
        codebook.decode(semantic)
    with pytest.raises(UserError, match="not in this codebook"):
        codebook.encode("2", "unheard of", np.ones((4, 4), dtype=bool))
    with pytest.raises(UserError, match="skin type '7'"):
        codebook.encode("7", CONDITIONS[0], np.ones((4, 4), dtype=bool))


def test_onehot_has_a_tone_channel_and_one_channel_per_condition(codebook: Codebook):
    roi = np.zeros((5, 5), dtype=bool)
    roi[1:3, 2:4] = True
    channels = codebook.encode_onehot("6", CONDITIONS[4], roi)
    assert channels.shape == (28, 5, 5)
    assert np.all(channels[0] == 1.0)
    channel = 1 + codebook.condition_index(CONDITIONS[4])
    assert np.array_equal(channels[channel].astype(bool), roi) and channels[1:].sum() == roi.sum()


def test_save_and_load_round_trip(tmp_path: Path, codebook: Codebook):
    codebook.save(tmp_path / "codebook.json")
    assert Codebook.load(tmp_path / "codebook.json") == codebook
    (tmp_path / "bad.json").write_text('{"conditions": []}')
    with pytest.raises(UserError, match="not a valid codebook"):
        Codebook.load(tmp_path / "bad.json")
