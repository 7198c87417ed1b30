from pathlib import Path

import numpy as np
from PIL import Image

from dermgan.data.prepare import prepare_dataset
from dermgan.data.show import BOX_COLOUR, CELL, LABEL_HEIGHT, show_prepared


def test_show_writes_a_grid_of_triplets_with_boxes_drawn(small_dataset: Path, tmp_path: Path):
    prepare_dataset(small_dataset, tmp_path / "p", size=32, workers=1, progress=False)
    out = show_prepared(tmp_path / "p", tmp_path / "grid.png", n=6)
    with Image.open(out) as grid:
        assert grid.size == (2 * 3 * CELL + 8, 3 * (CELL + LABEL_HEIGHT))
        pixels = np.asarray(grid.convert("RGB"))
    first = pixels[:CELL, : 3 * CELL]
    image, overlay = first[:, :CELL], first[:, 2 * CELL :]
    assert (overlay == BOX_COLOUR).all(axis=-1).sum() > CELL, "box outlines are drawn on the overlay"
    assert not (image == BOX_COLOUR).all(axis=-1).any(), "and not on the plain image"
