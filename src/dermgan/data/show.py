"""`data show`: a contact sheet of prepared crops or generated images (image | map | boxes) for people."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dermgan.data.manifest import parse_boxes, read_manifest
from dermgan.data.prepare import read_prepared
from dermgan.errors import UserError
from dermgan.files import save_png

CELL = 128
LABEL_HEIGHT = 14
BOX_COLOUR = (0, 255, 0)


def one_per_label_first(labels: list, order: list[int], count: int) -> list[int]:
    """Up to `count` indices in `order`, the first of each label before any second (rare ones show)."""
    first: dict = {}
    for index in order:
        first.setdefault(labels[index], index)
    chosen = list(first.values())
    taken = set(chosen)
    return (chosen + [index for index in order if index not in taken])[:count]


def _triplet(root: Path, row: dict[str, str]) -> Image.Image:
    """image | map | image with its boxes drawn, each CELL px, with the labels underneath."""
    with Image.open(root / row["image"]) as opened:
        image = opened.convert("RGB")
    with Image.open(root / (row.get("map") or row["map_path"])) as opened:
        semantic = opened.convert("RGB")
    scale = CELL / image.width
    panel = Image.new("RGB", (3 * CELL, CELL + LABEL_HEIGHT), (255, 255, 255))
    overlay = image.resize((CELL, CELL), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in parse_boxes(row["boxes"]):
        draw.rectangle([x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1], outline=BOX_COLOUR)
    panel.paste(image.resize((CELL, CELL), Image.Resampling.BICUBIC), (0, 0))
    panel.paste(semantic.resize((CELL, CELL), Image.Resampling.NEAREST), (CELL, 0))
    panel.paste(overlay, (2 * CELL, 0))
    label = f"{row['condition']} | type {row['skin_type'] or '?'} | {row['split']}"
    ImageDraw.Draw(panel).text((3, CELL + 1), label[:60], fill=(0, 0, 0))
    return panel


def show_prepared(
    prepared_dir: str | os.PathLike[str], out: str | os.PathLike[str], n: int = 16, seed: int = 0
) -> Path:
    """Writes a grid of n random crops (one per condition first, so rare ones show) to `out`.

    `prepared_dir` is a `data prepare` folder or a `generate` folder (whose maps are in `map_path`).
    """
    root = Path(prepared_dir)
    table = read_manifest(root / "manifest.csv")
    if "map_path" not in table.columns:
        table = read_prepared(root)
    rows = table.rows
    if n < 1:
        raise UserError("--n must be at least 1")
    order = [int(i) for i in np.random.default_rng(seed).permutation(len(rows))]
    chosen = one_per_label_first([row["condition"] for row in rows], order, n)
    panels = [_triplet(root, rows[i]) for i in chosen]
    columns = 2 if len(panels) > 4 else 1
    grid_rows = -(-len(panels) // columns)
    width, height = panels[0].size
    sheet = Image.new("RGB", (columns * width + (columns - 1) * 8, grid_rows * height), (255, 255, 255))
    for k, panel in enumerate(panels):
        sheet.paste(panel, ((k % columns) * (width + 8), (k // columns) * height))
    save_png(sheet, out)
    return Path(out)
