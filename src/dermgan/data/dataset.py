"""The torch view of a prepared dataset: (map, image, ROI mask, condition, skin type) per crop.

Random flips are drawn once per item and applied to all three tensors; maps and masks are only ever
resized with nearest-neighbour, so their codes survive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from dermgan.data.prepare import read_prepared
from dermgan.data.semantic_map import Codebook
from dermgan.data.splits import read_splits, splits_path
from dermgan.errors import UserError


class Pair(NamedTuple):
    map: torch.Tensor  # 3xHxW in [-1, 1] (RGB encoding) or (1+C)xHxW in [0, 1] (one-hot)
    image: torch.Tensor  # 3xHxW in [-1, 1]
    roi_mask: torch.Tensor  # 1xHxW in {0, 1}
    condition: int  # index into codebook.conditions
    skin_type: int  # index into codebook.skin_types


def random_flip(pair: Pair, generator: torch.Generator | None = None) -> Pair:
    """Mirrors map, image and ROI mask together: left-right and top-bottom, each with probability 1/2."""
    horizontal, vertical = (torch.rand(2, generator=generator) < 0.5).tolist()
    dims = [dim for dim, wanted in ((-1, horizontal), (-2, vertical)) if wanted]
    if not dims:
        return pair
    return pair._replace(
        map=pair.map.flip(dims), image=pair.image.flip(dims), roi_mask=pair.roi_mask.flip(dims)
    )


def map_tensor(codebook: Codebook, semantic: np.ndarray, encoding: str = "rgb") -> torch.Tensor:
    """The network input of an HxWx3 uint8 map: 3xHxW in [-1, 1] (RGB), or the one-hot channels."""
    if encoding == "onehot":
        skin_type, condition, roi = codebook.decode(semantic)
        if condition is None:
            roi, condition = np.zeros_like(roi), codebook.conditions[0]
        return torch.from_numpy(codebook.encode_onehot(skin_type, condition, roi))
    return torch.from_numpy(semantic).permute(2, 0, 1).float() / 127.5 - 1.0


def _load(path: Path, size: int | None, resample: Image.Resampling) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        if size is not None and image.size != (size, size):
            image = image.resize((size, size), resample)
        return np.array(image)


class PreparedPairs(Dataset):
    """Crops of one split of a `data prepare` folder; `size` resizes on the fly (maps: nearest only)."""

    def __init__(
        self,
        prepared_dir: str | os.PathLike[str],
        split: str | None = "train",
        *,
        size: int | None = None,
        flip: bool = False,
        encoding: Literal["rgb", "onehot"] = "rgb",
        generator: torch.Generator | None = None,
    ):
        self.root = Path(prepared_dir)
        self.codebook = Codebook.load(self.root / "codebook.json")
        table = read_prepared(self.root)
        case_split = read_splits(splits_path(self.root))
        self.rows = [
            row
            for row in table.rows
            if split is None or case_split.get(row["case_id"], row["split"]) == split
        ]
        if not self.rows:
            raise UserError(f"{self.root} has no crops in split {split!r}")
        self.size, self.flip, self.encoding, self.generator = size, flip, encoding, generator

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Pair:
        row = self.rows[index]
        image = _load(self.root / row["image"], self.size, Image.Resampling.BICUBIC)
        semantic = _load(self.root / row["map"], self.size, Image.Resampling.NEAREST)
        roi = _load(self.root / row["mask"], self.size, Image.Resampling.NEAREST)
        pair = Pair(
            map_tensor(self.codebook, semantic, self.encoding),
            torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1.0,
            torch.from_numpy(roi > 127).float().unsqueeze(0),
            condition=self.codebook.condition_index(row["condition"]),
            skin_type=self.codebook.skin_type_index(row["skin_type"]),
        )
        return random_flip(pair, self.generator) if self.flip else pair
