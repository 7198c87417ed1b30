"""Semantic maps to generate from: the paper's sampler over validation maps, and hand-made descriptions.

A MapSpec is a map before it is drawn: condition, skin type, boxes in pixels of a size x size image, and
where it came from. The sampler draws a validation crop's map, moves each box by a random shift that
keeps it inside the image and, when there are several, keeps a random non-empty subset (the paper's
Experiments). A description is what a person writes: JSON with a condition, a skin type 1-6 and either
boxes or a centre and a size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Self

import numpy as np
from PIL import Image
from pydantic import BaseModel, ValidationError, model_validator

from dermgan.conditions import parse_skin_type
from dermgan.data.boxes import boxes_mask
from dermgan.data.manifest import parse_boxes
from dermgan.data.prepare import read_prepared
from dermgan.data.semantic_map import Codebook
from dermgan.data.splits import read_splits, splits_path
from dermgan.errors import UserError

Box = tuple[float, float, float, float]


class MapSpec(BaseModel):
    condition: str
    skin_type: str
    boxes: list[Box]
    size: int
    source_image: str = ""
    """The real photo the map was sampled from; empty for a hand-made map."""
    source_case: str = ""

    def draw(self, codebook: Codebook) -> np.ndarray:
        """The size x size x 3 uint8 semantic map (the codebook names unknown conditions and types)."""
        return codebook.encode(self.skin_type, self.condition, boxes_mask(self.boxes, self.size, self.size))


class MapDescription(BaseModel):
    """A hand-made map: `boxes` ([[x0, y0, x1, y1], ...] in pixels) or `center` ([x, y]) and `size`
    (side in pixels, or [width, height])."""

    condition: str
    skin_type: int
    boxes: list[Box] | None = None
    center: tuple[float, float] | None = None
    size: float | tuple[float, float] | None = None

    model_config = {"extra": "forbid"}

    @model_validator(mode="after")
    def _one_way_to_place(self) -> Self:
        if not 1 <= self.skin_type <= 6:
            raise ValueError(f"skin_type must be a Fitzpatrick type 1-6, not {self.skin_type}")
        if (self.boxes is None) == (self.center is None):
            raise ValueError("give either boxes or a center and a size")
        if self.center is not None and self.size is None:
            raise ValueError("a center needs a size (side in pixels, or [width, height])")
        return self

    def spec(self, codebook: Codebook, image_size: int) -> MapSpec:
        codebook.condition_index(self.condition)
        boxes = self.boxes
        if boxes is None:
            width, height = self.size if isinstance(self.size, tuple) else (self.size, self.size)
            x, y = self.center
            boxes = [(x - width / 2, y - height / 2, x + width / 2, y + height / 2)]
        for box in boxes:
            x0, y0, x1, y1 = box
            if not (0 <= x0 < x1 <= image_size and 0 <= y0 < y1 <= image_size):
                raise UserError(
                    f"box {list(box)} is not inside the {image_size}x{image_size} image "
                    f"(need 0 <= x0 < x1 <= {image_size} and 0 <= y0 < y1 <= {image_size})"
                )
        return MapSpec(condition=self.condition, skin_type=str(self.skin_type), boxes=boxes, size=image_size)


def parse_description(text: str) -> list[MapDescription]:
    """One description (a JSON object) or several (a JSON list); UserError naming what is wrong."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"a map description is JSON, e.g. {EXAMPLE}; this is not: {error}") from None
    items = value if isinstance(value, list) else [value]
    descriptions = []
    for number, item in enumerate(items, start=1):
        try:
            descriptions.append(MapDescription.model_validate(item))
        except ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'description'}: {e['msg'].removeprefix('Value error, ')}"
                for e in error.errors()
            )
            raise UserError(f"map description {number} is invalid: {reasons}") from None
    return descriptions


EXAMPLE = '{"condition": "melanoma", "skin_type": 5, "center": [32, 32], "size": 20}'


def load_maps(source: str, codebook: Codebook, image_size: int) -> list[MapSpec]:
    """MapSpecs from a map PNG, a JSON file of descriptions, or inline JSON."""
    path = Path(source)
    if path.suffix.lower() == ".png" and path.is_file():
        with Image.open(path) as picture:
            semantic = np.asarray(
                picture.convert("RGB").resize((image_size, image_size), Image.Resampling.NEAREST)
            )
        try:
            skin_type, condition, roi = codebook.decode(semantic)
        except ValueError as error:
            raise UserError(f"{path} is not a semantic map of this generator's codebook: {error}") from None
        if condition is None:
            raise UserError(f"{path} has no ROI: a map to generate from needs at least one box")
        ys, xs = np.nonzero(roi)
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        return [MapSpec(condition=condition, skin_type=skin_type, boxes=[box], size=image_size)]
    text = path.read_text(encoding="utf-8") if path.suffix.lower() == ".json" and path.is_file() else source
    return [description.spec(codebook, image_size) for description in parse_description(text)]


class MapSampler:
    """The paper's sampler over the maps of one split (validation) of a prepared dataset."""

    def __init__(self, prepared_dir: str | os.PathLike[str], image_size: int, split: str = "val"):
        self.root = Path(prepared_dir)
        table = read_prepared(self.root)
        case_split = read_splits(splits_path(self.root))
        self.rows = [row for row in table.rows if case_split.get(row["case_id"], row["split"]) == split]
        if not self.rows:
            raise UserError(f"{self.root} has no {split} crops to sample maps from")
        self.prepared_size = _crop_size(self.root / self.rows[0]["map"])
        self.image_size = image_size
        self.by_condition: dict[str, list[dict[str, str]]] = {}
        for row in self.rows:
            self.by_condition.setdefault(row["condition"], []).append(row)

    def sample(
        self, rng: np.random.Generator, condition: str | None = None, skin_type: str | None = None
    ) -> MapSpec:
        """A map of `condition` (one of its own validation maps if it has any) on `skin_type`."""
        pool = self.by_condition.get(condition) or self.rows
        row = pool[rng.integers(len(pool))]
        scale = self.image_size / self.prepared_size
        boxes = [tuple(v * scale for v in box) for box in parse_boxes(row["boxes"])]
        return MapSpec(
            condition=condition or row["condition"],
            skin_type=parse_skin_type(skin_type) if skin_type else row["skin_type"],
            boxes=subset_and_shift(boxes, self.image_size, rng),
            size=self.image_size,
            source_image=row.get("source_image", ""),
            source_case=row["case_id"],
        )


def crop_spec(prepared_dir: str | os.PathLike[str], row: dict[str, str], image_size: int) -> MapSpec:
    """The map a prepared crop was drawn with, as it was (no shift), its boxes scaled to `image_size`."""
    scale = image_size / _crop_size(Path(prepared_dir) / row["map"])
    return MapSpec(
        condition=row["condition"],
        skin_type=row["skin_type"],
        boxes=[tuple(value * scale for value in box) for box in parse_boxes(row["boxes"])],
        size=image_size,
        source_image=row.get("source_image", ""),
        source_case=row["case_id"],
    )


def subset_and_shift(boxes: list[Box], image_size: int, rng: np.random.Generator) -> list[Box]:
    """A random non-empty subset of the boxes (all of a single one), each moved by a uniform random shift
    that keeps it inside the image."""
    if len(boxes) > 1:
        keep = rng.integers(1, len(boxes) + 1)
        boxes = [boxes[i] for i in sorted(rng.choice(len(boxes), size=keep, replace=False))]
    moved = []
    for x0, y0, x1, y1 in boxes:
        dx = rng.uniform(-x0, image_size - x1) if x1 - x0 < image_size else -x0
        dy = rng.uniform(-y0, image_size - y1) if y1 - y0 < image_size else -y0
        moved.append((x0 + dx, y0 + dy, x1 + dx, y1 + dy))
    return moved


def _crop_size(path: Path) -> int:
    with Image.open(path) as picture:
        return picture.size[0]
