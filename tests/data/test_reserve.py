"""Held-back cases: a condition kept rare in every training, its other train cases in the reserve."""

from __future__ import annotations

import pytest

from dermgan.data.manifest import Record
from dermgan.data.splits import assign_splits, move_to_reserve
from dermgan.errors import UserError
from dermgan.parsing import parse_counts

RECORDS = [Record(i, f"{i}.jpg", "melanoma", case_id=f"m{i}") for i in range(30)] + [
    Record(100 + i, f"n{i}.jpg", "nevus", case_id=f"n{i}") for i in range(30)
]


def test_all_but_the_kept_train_cases_of_a_condition_move_to_the_reserve():
    splits = assign_splits(RECORDS, seed=0)
    held = move_to_reserve(RECORDS, splits, {"melanoma": 4}, seed=0)
    melanoma_train = [c for c, s in splits.items() if c.startswith("m") and s == "train"]
    assert sum(s == "train" and c.startswith("m") for c, s in held.items()) == 4
    assert sorted(c for c, s in held.items() if s == "reserve") == sorted(
        c for c in melanoma_train if held[c] != "train"
    )
    unchanged = {c: s for c, s in splits.items() if s != "train" or c.startswith("n")}
    assert all(held[c] == s for c, s in unchanged.items())  # val, test and other conditions untouched
    assert held == move_to_reserve(RECORDS, splits, {"melanoma": 4}, seed=0)


def test_an_unknown_condition_or_a_negative_count_is_refused():
    splits = assign_splits(RECORDS, seed=0)
    with pytest.raises(UserError, match="'melanom', not a condition"):
        move_to_reserve(RECORDS, splits, {"melanom": 4})
    with pytest.raises(UserError, match="keep 0 or more"):
        move_to_reserve(RECORDS, splits, {"melanoma": -1})


def test_counts_are_parsed_from_name_equals_count():
    assert parse_counts("melanoma=8, basal cell carcinoma=3", "--hold-back") == {
        "melanoma": 8,
        "basal cell carcinoma": 3,
    }
    assert parse_counts(None, "--hold-back") == {}
    with pytest.raises(UserError, match="--hold-back 'melanoma' must be NAME=COUNT"):
        parse_counts("melanoma", "--hold-back")
