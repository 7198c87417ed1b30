"""The semantic map (paper, Fig. 3) and its codebook: the one place that knows the encoding.

RGB map: R = skin-tone code for the whole image, (G, B) = a non-zero code of the condition inside the
ROI boxes and (0, 0) outside. Tone codes grow from light to dark, so R is ordinal. The codebook is saved
with every prepared dataset and model, and decode(encode(x)) == x exactly.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, model_validator

from dermgan.conditions import FITZPATRICK_TYPES, UNKNOWN_SKIN_TYPE, skin_type_sort_key
from dermgan.errors import UserError
from dermgan.files import write_json

UNKNOWN_TONE_CODE = 0


def _tone_codes(skin_types: list[str]) -> dict[str, int]:
    known = sorted((t for t in skin_types if t != UNKNOWN_SKIN_TYPE), key=skin_type_sort_key)
    step = 255 / len(known)
    codes = {tone: round(step * (index + 1)) for index, tone in enumerate(known)}
    codes[UNKNOWN_SKIN_TYPE] = UNKNOWN_TONE_CODE
    return codes


def _condition_codes(conditions: list[str]) -> dict[str, tuple[int, int]]:
    """Spreads conditions over a grid of (G, B) levels, all non-zero and as far apart as possible."""
    levels = max(1, math.ceil(math.sqrt(len(conditions))))
    values = [round(255 * (k + 1) / levels) for k in range(levels)]
    return {c: (values[i // levels], values[i % levels]) for i, c in enumerate(conditions)}


class Codebook(BaseModel):
    """Skin type -> R and condition -> (G, B); `conditions` order is the class index order."""

    conditions: list[str]
    skin_types: list[str]
    tone_codes: dict[str, int]
    condition_codes: dict[str, tuple[int, int]]

    @model_validator(mode="after")
    def _codes_are_distinct(self) -> Codebook:
        if len(set(self.tone_codes.values())) != len(self.tone_codes):
            raise ValueError("two skin types share an R code")
        if len(set(self.condition_codes.values())) != len(self.condition_codes):
            raise ValueError("two conditions share a (G, B) code")
        if (0, 0) in self.condition_codes.values():
            raise ValueError("(0, 0) is reserved for 'no condition here'")
        return self

    @classmethod
    def build(cls, conditions: Iterable[str], skin_types: Iterable[str] = ()) -> Codebook:
        """Codebook over the conditions (sorted) and the six types plus any ranges seen, and unknown."""
        conditions = sorted(set(conditions))
        if not conditions:
            raise UserError("a codebook needs at least one condition")
        tones = sorted(
            {str(t) for t in FITZPATRICK_TYPES} | set(skin_types) | {UNKNOWN_SKIN_TYPE},
            key=skin_type_sort_key,
        )
        return cls(
            conditions=conditions,
            skin_types=tones,
            tone_codes=_tone_codes(tones),
            condition_codes=_condition_codes(conditions),
        )

    def condition_index(self, condition: str) -> int:
        try:
            return self.conditions.index(condition)
        except ValueError:
            raise UserError(
                f"condition {condition!r} is not in this codebook; it knows {', '.join(self.conditions)}"
            ) from None

    def skin_type_index(self, skin_type: str) -> int:
        try:
            return self.skin_types.index(skin_type)
        except ValueError:
            known = ", ".join(t or "unknown" for t in self.skin_types)
            raise UserError(f"skin type {skin_type!r} is not in this codebook; it knows {known}") from None

    def encode(self, skin_type: str, condition: str, roi: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 map from a skin type, a condition and a boolean HxW ROI mask."""
        self.skin_type_index(skin_type)
        self.condition_index(condition)
        height, width = roi.shape
        semantic = np.zeros((height, width, 3), dtype=np.uint8)
        semantic[..., 0] = self.tone_codes[skin_type]
        semantic[roi, 1:] = self.condition_codes[condition]
        return semantic

    def decode(self, semantic: np.ndarray) -> tuple[str, str | None, np.ndarray]:
        """(skin type, condition or None when no ROI, ROI mask) of a map; ValueError if not a valid map."""
        tones = np.unique(semantic[..., 0])
        if len(tones) != 1:
            raise ValueError(f"a map has one tone code, this one has {len(tones)}")
        tone_of_code = {code: tone for tone, code in self.tone_codes.items()}
        if int(tones[0]) not in tone_of_code:
            raise ValueError(f"R value {int(tones[0])} is no skin type's code")
        roi = semantic[..., 1:].any(axis=-1)
        pairs = {tuple(int(v) for v in pair) for pair in np.unique(semantic[roi][:, 1:], axis=0)}
        condition_of_code = {code: name for name, code in self.condition_codes.items()}
        if len(pairs) > 1 or not pairs <= condition_of_code.keys():
            raise ValueError(f"ROI codes {sorted(pairs)} are not one condition's code")
        condition = condition_of_code[pairs.pop()] if pairs else None
        return tone_of_code[int(tones[0])], condition, roi

    def encode_onehot(self, skin_type: str, condition: str, roi: np.ndarray) -> np.ndarray:
        """(1 + n_conditions) x H x W float32: a tone channel in [0, 1], then one ROI channel each."""
        height, width = roi.shape
        channels = np.zeros((1 + len(self.conditions), height, width), dtype=np.float32)
        channels[0] = self.tone_codes[skin_type] / 255.0
        channels[1 + self.condition_index(condition)] = roi
        return channels

    def map_channels(self, encoding: str = "rgb") -> int:
        """Channels of a map tensor: 3 for the RGB encoding, tone + one per condition for one-hot."""
        return 3 if encoding == "rgb" else 1 + len(self.conditions)

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json(path, self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Codebook:
        try:
            return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise UserError(f"codebook {path} does not exist; `dermgan data prepare` writes it") from None
        except (json.JSONDecodeError, ValueError) as error:
            raise UserError(f"codebook {path} is not a valid codebook: {error}") from None
