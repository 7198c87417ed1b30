import pytest

from dermgan.conditions import ITA_BANDS, fitzpatrick_from_ita, parse_skin_type, skin_type_sort_key
from dermgan.errors import UserError


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("3", "3"), (" 5 ", "5"), ("1-2", "1-2"), ("3 - 4", "3-4"), ("2-2", "2"), ("", "")],
)
def test_skin_types_parse_to_a_canonical_label(text, canonical):
    assert parse_skin_type(text) == canonical


@pytest.mark.parametrize("text", ["0", "7", "1-7", "III", "3.0", "2,3", "4-1"])
def test_invalid_skin_types_are_refused(text):
    with pytest.raises(UserError):
        parse_skin_type(text)


def test_skin_types_order_light_to_dark_with_unknown_last():
    labels = ["", "6", "1-2", "3", "1", "5-6"]
    assert sorted(labels, key=skin_type_sort_key) == ["1", "1-2", "3", "5-6", "6", ""]


def test_ita_bands_map_back_to_their_type():
    for skin_type, (low, high) in ITA_BANDS.items():
        assert fitzpatrick_from_ita((max(low, -60) + min(high, 80)) / 2) == skin_type
    assert fitzpatrick_from_ita(55.0) == 2 and fitzpatrick_from_ita(55.01) == 1
    assert fitzpatrick_from_ita(10.0) == 6 and fitzpatrick_from_ita(-40) == 6
