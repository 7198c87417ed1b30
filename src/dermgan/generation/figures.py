"""The paper's pictures of what a generator controls: one map on all six skin types (Fig. 5), one box
grown step by step (Fig. 6), and generated beside real crops per condition (Fig. 4).

Every image is rendered in deterministic mode at the generator's own size, so a figure depends only on
the model and its maps. Small images are enlarged nearest-neighbour, so 32-64 px pixels stay visible.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from dermgan.conditions import FITZPATRICK_TYPES, ROMAN
from dermgan.data.dataset import PreparedPairs
from dermgan.data.splits import read_splits, splits_path
from dermgan.errors import UserError
from dermgan.files import save_png
from dermgan.generation.maps import MapSpec, crop_spec, load_maps
from dermgan.generation.synthesize import Synthesizer
from dermgan.training.samples import to_uint8

DPI = 100
CELL_INCHES = 1.3
"""Each image's square cell, gap included: 130 px, so a 64 px image shows at twice its size."""
GAP_INCHES = 0.08
LABEL_INCHES = 1.7
TITLE_INCHES = 0.3
MARGIN_INCHES = 0.1
FONT_SIZE = 10
LABEL_CHARACTERS = 18
"""Row labels wrap at this width so they fit beside the images."""

SMALLEST_BOX, LARGEST_BOX = 1 / 8, 7 / 8
"""The size sweep's first and last box side, as fractions of the image side."""
NO_HELD_OUT_CROP = "no held-out crop"


@dataclass
class FigureRow:
    """One row of a figure: a label, its images (fewer than the columns leave blanks) and a note."""

    label: str
    images: list[np.ndarray] = field(default_factory=list)
    note: str = ""


def draw_rows(
    rows: Sequence[FigureRow], columns: int, out: str | os.PathLike[str], column_titles: Sequence[str] = ()
) -> Path:
    """Writes the rows as a grid of fixed-size cells (the picture grows by one cell per row or column)
    with labels on the left and titles on top, as a PNG without metadata."""
    width = LABEL_INCHES + columns * CELL_INCHES + MARGIN_INCHES
    height = TITLE_INCHES + len(rows) * CELL_INCHES + MARGIN_INCHES
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    side = CELL_INCHES - GAP_INCHES
    for row_index, row in enumerate(rows):
        top = TITLE_INCHES + row_index * CELL_INCHES
        middle = 1 - (top + side / 2) / height
        for column in range(columns):
            left = LABEL_INCHES + column * CELL_INCHES
            axes = figure.add_axes((left / width, 1 - (top + side) / height, side / width, side / height))
            axes.set_axis_off()
            if column < len(row.images):
                axes.imshow(row.images[column], interpolation="nearest")
            if row_index == 0 and column < len(column_titles):
                axes.set_title(column_titles[column], fontsize=FONT_SIZE)
        label = "\n".join(textwrap.fill(line, LABEL_CHARACTERS) for line in row.label.splitlines())
        figure.text(
            (LABEL_INCHES - GAP_INCHES) / width, middle, label, ha="right", va="center", fontsize=FONT_SIZE
        )
        if row.note:
            figure.text(
                LABEL_INCHES / width,
                middle,
                row.note,
                ha="left",
                va="center",
                fontsize=FONT_SIZE,
                style="italic",
            )
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    save_png(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]), out)
    return Path(out)


def tone_specs(spec: MapSpec) -> list[MapSpec]:
    """The same map on each Fitzpatrick type, light to dark."""
    return [spec.model_copy(update={"skin_type": str(skin_type)}) for skin_type in FITZPATRICK_TYPES]


def tone_sweep(model: str | os.PathLike[str], maps: str | Sequence[str], out: str | os.PathLike[str]) -> Path:
    """Fig. 5: each map (a PNG, a JSON file or inline JSON) rendered on skin types I to VI, one row each."""
    synthesizer = Synthesizer(model)
    sources = [maps] if isinstance(maps, str) else list(maps)
    if not sources:
        raise UserError("give at least one map: --map FILE_OR_DESCRIPTION")
    specs = [spec for source in sources for spec in load_maps(source, synthesizer.codebook, synthesizer.size)]
    columns = len(FITZPATRICK_TYPES)
    images = synthesizer.render([toned for spec in specs for toned in tone_specs(spec)])
    rows = [
        FigureRow(spec.condition, list(images[index * columns : (index + 1) * columns]))
        for index, spec in enumerate(specs)
    ]
    return draw_rows(rows, columns, out, [f"type {ROMAN[skin_type]}" for skin_type in FITZPATRICK_TYPES])


def growing_box_specs(condition: str, skin_type: int, image_size: int, steps: int) -> list[MapSpec]:
    """`steps` centred square boxes whose whole-pixel side grows evenly from 1/8 to 7/8 of the image."""
    if skin_type not in FITZPATRICK_TYPES:
        raise UserError(f"skin type {skin_type} is not a Fitzpatrick type; give 1 to 6")
    smallest = max(1, round(SMALLEST_BOX * image_size))
    largest = round(LARGEST_BOX * image_size)
    if not 2 <= steps <= largest - smallest + 1:
        raise UserError(
            f"--steps {steps} must be 2 to {largest - smallest + 1}: the box sides of a {image_size} px "
            f"generator run from {smallest} to {largest} px, one step at least 1 px"
        )
    specs = []
    for side in np.linspace(smallest, largest, steps).round().astype(int):
        start = (image_size - int(side)) // 2
        box = (float(start), float(start), float(start + side), float(start + side))
        specs.append(MapSpec(condition=condition, skin_type=str(skin_type), boxes=[box], size=image_size))
    return specs


def size_sweep(
    model: str | os.PathLike[str], condition: str, skin_type: int, out: str | os.PathLike[str], steps: int = 6
) -> Path:
    """Fig. 6: one row of the same condition and skin type with its centred box grown step by step."""
    synthesizer = Synthesizer(model)
    synthesizer.codebook.condition_index(condition)
    specs = growing_box_specs(condition, skin_type, synthesizer.size, steps)
    sides = [int(spec.boxes[0][2] - spec.boxes[0][0]) for spec in specs]
    row = FigureRow(f"{condition}\ntype {ROMAN[skin_type]}", list(synthesizer.render(specs)))
    return draw_rows([row], len(specs), out, [f"{side} px" for side in sides])


def comparison_rows(
    synthesizer: Synthesizer,
    data: str | os.PathLike[str],
    per_condition: int = 4,
    split: str = "val",
    seed: int = 0,
) -> list[FigureRow]:
    """Per condition of the codebook, generated images from up to `per_condition` held-out crops' own
    maps over those real crops: from `split`, else from test, else a note that there is none."""
    if per_condition < 1:
        raise UserError("--per-condition must be at least 1")
    pairs = PreparedPairs(data, split=None, size=synthesizer.size)
    case_split = read_splits(splits_path(pairs.root))
    split_of = [case_split.get(row["case_id"], row["split"]) for row in pairs.rows]
    rng = np.random.default_rng(seed)
    rows = []
    for condition in synthesizer.codebook.conditions:
        held_out = {
            name: [
                i for i, row in enumerate(pairs.rows) if row["condition"] == condition and split_of[i] == name
            ]
            for name in dict.fromkeys([split, "test"])
        }
        used = next((name for name, indices in held_out.items() if indices), None)
        if used is None:
            rows += [
                FigureRow(f"{condition}\ngenerated", note=NO_HELD_OUT_CROP),
                FigureRow(f"{condition}\nreal"),
            ]
            continue
        count = min(per_condition, len(held_out[used]))
        chosen = sorted(rng.choice(held_out[used], size=count, replace=False))
        specs = [crop_spec(pairs.root, pairs.rows[i], synthesizer.size) for i in chosen]
        generated = synthesizer.render(specs)
        real = to_uint8(torch.stack([pairs[i].image for i in chosen]))
        rows += [
            FigureRow(f"{condition}\ngenerated", list(generated)),
            FigureRow(f"{condition}\nreal ({used})", list(real)),
        ]
    return rows


def real_vs_generated(
    model: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    per_condition: int = 4,
    split: str = "val",
    seed: int = 0,
) -> Path:
    """Fig. 4: per condition, a row of generated images over a row of the real crops whose maps made them."""
    rows = comparison_rows(Synthesizer(model), data, per_condition, split, seed)
    return draw_rows(rows, per_condition, out)
