"""What a training run leaves behind: the run directory of DESIGN.md, readable by later stages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from conftest import TINY
from dermgan.cli import main
from dermgan.data.dataset import PreparedPairs
from dermgan.training.config import load_config
from dermgan.training.release import load_generator
from dermgan.training.samples import MIN_TILE
from dermgan.training.step import LOSS_TERMS
from dermgan.training.trainer import train

RUN = (*TINY, "train.max_steps=3", "train.sample_every=2", "train.checkpoint_every=2")


@pytest.fixture(scope="module")
def run(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    train(phantom_32, out, overrides=RUN, progress=False)
    return out


def test_run_directory_holds_config_codebook_logs_samples_checkpoints_and_release(run: Path):
    names = {path.relative_to(run).as_posix() for path in run.rglob("*") if path.is_file()}
    assert {
        "config.yaml",
        "codebook.json",
        "metrics.jsonl",
        "generator.safetensors",
        "generator.json",
    } <= names
    assert {"MODEL_CARD.md", "samples/step-0000002.png", "samples/step-0000003.png"} <= names
    assert {"checkpoints/step-0000002.pt", "checkpoints/step-0000003.pt"} <= names
    assert any(name.startswith("tensorboard/events.out.tfevents") for name in names)
    resolved = load_config(run / "config.yaml")
    assert resolved.train.max_steps == 3 and resolved.model.ngf == 8
    assert yaml.safe_load((run / "config.yaml").read_text())["data"]["path"]


def test_metrics_have_every_loss_term_lr_speed_and_balance(run: Path):
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3]
    for line in lines:
        assert set(LOSS_TERMS) | {"lr", "images_per_s", "d_g_balance"} <= set(line)
        assert all(np.isfinite(line[name]) for name in LOSS_TERMS)
        assert line["images_per_s"] > 0
        assert line["d_g_balance"] == pytest.approx(line["loss_d"] / line["loss_g_gan"])


def test_sample_grid_is_map_generated_real_enlarged_for_viewing(run: Path, phantom_32: Path):
    with Image.open(run / "samples" / "step-0000003.png") as picture:
        width, height = picture.size
        grid = np.asarray(picture.convert("RGB"))
    tile = max(32, MIN_TILE // 32 * 32)
    assert width == 3 * tile and height % tile == 0
    zoom = tile // 32
    first_real = grid[:tile, 2 * tile :][::zoom, ::zoom]
    held_out = PreparedPairs(phantom_32, "val")
    assert any(
        np.array_equal(first_real, np.asarray(Image.open(held_out.root / row["image"])))
        for row in held_out.rows
    )


def test_released_generator_reloads_and_reproduces_the_run(run: Path, phantom_32: Path):
    generator, info = load_generator(run)
    assert info.step == 3 and info.config.data.size == 32 and info.codebook.conditions
    checkpoint = torch.load(run / "checkpoints" / "step-0000003.pt", weights_only=True)
    for name, tensor in generator.state_dict().items():
        torch.testing.assert_close(tensor, checkpoint["generator"][name])
    maps = PreparedPairs(phantom_32, "test")[0].map.unsqueeze(0)
    assert generator(maps).shape == (1, 3, 32, 32)


def test_model_card_counts_the_train_split_only(run: Path, phantom_32: Path):
    card = (run / "MODEL_CARD.md").read_text()
    train_rows = PreparedPairs(phantom_32, "train").rows
    assert f"train split only: {len(train_rows)} crops of 32 px" in card
    assert "never seen a real skin photo" in card
    counts = Counter(row["condition"] for row in train_rows)
    for condition, count in counts.items():
        assert f"| {condition} |" in card and card.split(f"| {condition} |")[1].splitlines()[0].endswith(
            f"| {count} |"
        )
    assert sum(counts.values()) < len(PreparedPairs(phantom_32, None))


def test_cli_trains_and_names_bad_overrides(monkeypatch, capsys, phantom_32: Path, tmp_path: Path):
    arguments = [a for override in (*TINY, "train.max_steps=2") for a in ("--set", override)]
    monkeypatch.setattr(
        "sys.argv", ["dermgan", "train", "--data", str(phantom_32), "--out", str(tmp_path / "r"), *arguments]
    )
    with pytest.raises(SystemExit) as finished:
        main()
    assert finished.value.code in (0, None)
    assert "trained to step 2" in capsys.readouterr().out
    monkeypatch.setattr(
        "sys.argv", ["dermgan", "train", "--resume", str(tmp_path / "r"), "--set", "model.ngf=x"]
    )
    with pytest.raises(SystemExit) as finished:
        main()
    assert finished.value.code == 1
    assert "model.ngf" in capsys.readouterr().err
