"""The tone sweep, the size sweep and the real-vs-generated figure: layout, maps, fallbacks, CLI errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from dermgan.data.prepare import read_prepared
from dermgan.generation.figures import (
    CELL_INCHES,
    DPI,
    NO_HELD_OUT_CROP,
    comparison_rows,
    growing_box_specs,
    real_vs_generated,
    size_sweep,
    tone_sweep,
)
from dermgan.generation.synthesize import Synthesizer

CELL_PIXELS = round(CELL_INCHES * DPI)


def description(condition: str, skin_type: int = 3, center: int = 16, size: int = 12) -> str:
    return json.dumps(
        {"condition": condition, "skin_type": skin_type, "center": [center, center], "size": size}
    )


@pytest.fixture(scope="module")
def synthesizer(tiny_run: Path) -> Synthesizer:
    return Synthesizer(tiny_run)


def pixel_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as picture:
        return picture.size


def test_tone_sweep_renders_each_map_on_the_six_types_one_row_per_map(
    tiny_run, synthesizer, tmp_path, monkeypatch
):
    first, second = synthesizer.codebook.conditions[:2]
    rendered = []
    render = Synthesizer.render

    def recording_render(self, specs):
        rendered.append(specs)
        return render(self, specs)

    monkeypatch.setattr(Synthesizer, "render", recording_render)
    one = tone_sweep(tiny_run, description(first), tmp_path / "one.png")
    two = tone_sweep(tiny_run, [description(first), description(second, center=10)], tmp_path / "two.png")

    (width_one, height_one), (width_two, height_two) = pixel_size(one), pixel_size(two)
    assert width_one == width_two and height_two - height_one == CELL_PIXELS
    assert width_one > 6 * CELL_PIXELS
    specs = rendered[1]
    assert [spec.skin_type for spec in specs] == [str(t) for t in range(1, 7)] * 2
    assert [spec.condition for spec in specs] == [first] * 6 + [second] * 6
    maps = np.stack([spec.draw(synthesizer.codebook) for spec in specs[:6]])
    red = maps[..., 0].reshape(6, -1)
    assert (red == red[:, :1]).all() and (np.diff(red[:, 0].astype(int)) > 0).all()
    assert (maps[..., 1:] == maps[:1, ..., 1:]).all()


def test_size_sweep_grows_a_centred_box_inside_the_image(tiny_run, synthesizer, tmp_path):
    condition = synthesizer.codebook.conditions[0]
    specs = growing_box_specs(condition, 4, 32, steps=6)
    boxes = np.array([spec.boxes[0] for spec in specs])
    sides = boxes[:, 2] - boxes[:, 0]
    assert (sides == boxes[:, 3] - boxes[:, 1]).all() and (np.diff(sides) > 0).all()
    assert sides[0] == 4 and sides[-1] == 28
    assert (boxes >= 0).all() and (boxes <= 32).all()
    assert (np.abs(boxes[:, 0] + boxes[:, 2] - 32) <= 1).all()
    areas = [spec.draw(synthesizer.codebook)[..., 1].astype(bool).sum() for spec in specs]
    assert areas == [int(side) ** 2 for side in sides]

    six = size_sweep(tiny_run, condition, 4, tmp_path / "six.png", steps=6)
    three = size_sweep(tiny_run, condition, 4, tmp_path / "three.png", steps=3)
    assert pixel_size(six)[0] - pixel_size(three)[0] == 3 * CELL_PIXELS
    assert pixel_size(six)[1] == pixel_size(three)[1]


def _move_cases(prepared: Path, condition: str, from_splits: set[str]) -> None:
    """Puts every case of `condition` in `from_splits` into train (so that condition has no such crop)."""
    cases = {row["case_id"] for row in read_prepared(prepared).rows if row["condition"] == condition}
    path = prepared / "splits.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["case_id"] in cases and row["split"] in from_splits:
            row["split"] = "train"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["case_id", "split"])
        writer.writeheader()
        writer.writerows(rows)


def test_real_vs_generated_pairs_rows_per_condition_and_falls_back_to_test(
    tiny_run, synthesizer, phantom_32, tmp_path
):
    prepared = Path(shutil.copytree(phantom_32, tmp_path / "prepared"))
    conditions = synthesizer.codebook.conditions
    only_test, none_held_out = conditions[0], conditions[1]
    _move_cases(prepared, only_test, {"val"})
    _move_cases(prepared, none_held_out, {"val", "test"})

    rows = comparison_rows(synthesizer, prepared, per_condition=2)
    assert len(rows) == 2 * len(conditions)
    by_condition = {condition: rows[2 * k : 2 * k + 2] for k, condition in enumerate(conditions)}
    for condition, (generated, real) in by_condition.items():
        assert generated.label == f"{condition}\ngenerated" and real.label.startswith(f"{condition}\nreal")
        assert len(generated.images) == len(real.images)
        for image in generated.images + real.images:
            assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert by_condition[only_test][1].label.endswith("(test)") and by_condition[only_test][1].images
    assert by_condition[conditions[2]][1].label.endswith("(val)")
    assert by_condition[none_held_out][0].note == NO_HELD_OUT_CROP
    assert not by_condition[none_held_out][0].images and not by_condition[none_held_out][1].images

    figure = real_vs_generated(tiny_run, prepared, tmp_path / "fig.png", per_condition=2)
    fewer = real_vs_generated(tiny_run, prepared, tmp_path / "fewer.png", per_condition=1)
    assert pixel_size(figure)[1] > 2 * len(conditions) * CELL_PIXELS
    assert pixel_size(figure)[0] - pixel_size(fewer)[0] == CELL_PIXELS


def test_the_three_commands_write_their_figures(
    monkeypatch, capsys, tiny_run, synthesizer, phantom_32, tmp_path
):
    condition = synthesizer.codebook.conditions[0]
    commands = {
        "tone.png": ["sweep", "tone", "--map", description(condition), "--map", description(condition, 6)],
        "size.png": ["sweep", "size", "--condition", condition, "--skin-type", "2", "--steps", "4"],
        "real.png": ["figure", "real-vs-generated", "--data", phantom_32, "--per-condition", "1"],
    }
    for name, args in commands.items():
        code, out, err = run_cli(monkeypatch, capsys, *args, "--model", tiny_run, "--out", tmp_path / name)
        assert code == 0, err
        assert f"wrote {tmp_path / name}" in out
    assert pixel_size(tmp_path / "tone.png")[1] > 2 * CELL_PIXELS


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["sweep", "size", "--condition", "hiccups", "--skin-type", "3"], "condition 'hiccups' is not in"),
        (["sweep", "size", "--condition", "CONDITION", "--skin-type", "7"], "give 1 to 6"),
        (["sweep", "size", "--condition", "CONDITION", "--skin-type", "3", "--steps", "1"], "--steps 1"),
        (
            ["sweep", "tone", "--map", description("CONDITION", skin_type=9)],
            "skin_type must be a Fitzpatrick",
        ),
        (
            ["sweep", "tone", "--map", description("CONDITION", center=30, size=9)],
            "not inside the 32x32 image",
        ),
        (["sweep", "tone", "--map", "a melanoma, please"], "a map description is JSON"),
        (["sweep", "tone", "--map", description("hiccups")], "condition 'hiccups' is not in"),
        (["figure", "real-vs-generated", "--data", "TMP/nowhere"], "does not exist"),
        (["figure", "real-vs-generated", "--data", "PREPARED", "--per-condition", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_error_line(
    monkeypatch, capsys, tiny_run, synthesizer, phantom_32, tmp_path, args, needle
):
    values = {
        "CONDITION": synthesizer.codebook.conditions[0],
        "TMP": str(tmp_path),
        "PREPARED": str(phantom_32),
    }
    for placeholder, value in values.items():
        args = [arg.replace(placeholder, value) for arg in args]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--model", tiny_run, "--out", tmp_path / "fig.png")
    assert code == 1
    assert err.startswith("error: ") and err.count("error:") == 1 and "Traceback" not in err
    assert "".join(needle.split()) in "".join(err.split()), "the message is wrapped, not cut"
    assert not (tmp_path / "fig.png").exists()
