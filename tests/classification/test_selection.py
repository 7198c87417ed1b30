"""Which photos train: case splits, classes made rare on purpose, and what --extra may hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermgan.classification.examples import Example
from dermgan.classification.selection import select
from dermgan.errors import UserError


def photo(index: int, condition: str, split: str = "train", source: str = "real") -> Example:
    return Example(
        Path(f"/p/{index}.jpg"), condition, "", f"c{index}", split, source, index, Path("/p/m.csv")
    )


PHOTOS = [photo(i, "melanoma") for i in range(10)] + [photo(10 + i, "nevus") for i in range(6)]


def test_a_capped_class_keeps_a_seeded_subset_and_the_others_stay_whole():
    chosen = select(PHOTOS, [], {"melanoma": 3}, seed=0)
    assert chosen.class_counts() == {"melanoma": 3, "nevus": 6}
    again = select(PHOTOS, [], {"melanoma": 3}, seed=0)
    other_seed = [select(PHOTOS, [], {"melanoma": 3}, seed=s).train for s in range(1, 6)]
    assert chosen.train == again.train
    assert any(train != chosen.train for train in other_seed)


def test_a_cap_on_an_unknown_class_is_an_error():
    with pytest.raises(UserError, match="'melanom', not a condition"):
        select(PHOTOS, [], {"melanom": 3}, seed=0)


def test_photos_without_a_split_ask_for_splits_csv():
    with pytest.raises(UserError, match=r"1 photo.*no split.*--splits"):
        select([*PHOTOS, photo(99, "nevus", split="")], [], {}, seed=0)


def test_synthetic_photos_train_only_and_must_be_of_known_classes():
    chosen = select(PHOTOS, [photo(50, "melanoma", source="synthetic")], {"melanoma": 0}, seed=0)
    assert [e.row for e in chosen.train if e.condition == "melanoma"] == [50]
    with pytest.raises(UserError, match="'acne' is not one of the real data's"):
        select(PHOTOS, [photo(51, "acne", source="synthetic")], {}, seed=0)
    with pytest.raises(UserError, match="is not synthetic"):
        select(PHOTOS, [photo(52, "nevus")], {}, seed=0)


def test_a_synthetic_manifest_given_as_the_real_data_is_refused():
    generated = [photo(60 + i, "melanoma", source="synthetic") for i in range(3)]
    with pytest.raises(UserError, match="holds only synthetic images: --data takes the real manifest"):
        select(generated, [], {}, seed=0)


RESERVE = [photo(100 + i, "melanoma", split="reserve") for i in range(8)]
POOL = [photo(200 + i, condition, source="synthetic") for i in range(12) for condition in ("melanoma",)]


def test_held_back_photos_train_only_when_asked_and_larger_counts_hold_smaller_ones():
    plain = select([*PHOTOS, *RESERVE], [], {}, seed=0)
    assert not {e.row for e in plain.train} & {e.row for e in RESERVE}
    assert plain.reserve == RESERVE
    two, five = (
        {e.row for e in select([*PHOTOS, *RESERVE], [], {}, 0, reserve={"melanoma": n}).train} for n in (2, 5)
    )
    assert len(two - {e.row for e in PHOTOS}) == 2 and len(five - {e.row for e in PHOTOS}) == 5
    assert two < five
    test_rows = {e.row for e in select([*PHOTOS, *RESERVE], [], {}, 0, reserve={"melanoma": 5}).test}
    assert not five & test_rows
    with pytest.raises(UserError, match=r"reserve_images.melanoma=9, but the data holds 8.*--hold-back"):
        select([*PHOTOS, *RESERVE], [], {}, 0, reserve={"melanoma": 9})


def test_a_synthetic_dose_is_a_nested_seeded_subset_of_the_pool():
    def synthetic_rows(n: int, seed: int = 0) -> set[int]:
        chosen = select(PHOTOS, POOL, {}, seed, synthetic_caps={"melanoma": n})
        return {e.row for e in chosen.train if e.synthetic}

    assert len(synthetic_rows(3)) == 3 and synthetic_rows(3) < synthetic_rows(7) < synthetic_rows(12)
    assert any(synthetic_rows(3, seed) != synthetic_rows(3) for seed in range(1, 6))


def test_synthetic_only_drops_every_real_training_photo():
    chosen = select(PHOTOS, POOL, {}, 0, synthetic_only=True)
    assert chosen.train and all(e.synthetic for e in chosen.train)
    assert chosen.test == select(PHOTOS, POOL, {}, 0).test
    with pytest.raises(UserError, match="synthetic_only=true needs synthetic"):
        select(PHOTOS, [], {}, 0, synthetic_only=True)
