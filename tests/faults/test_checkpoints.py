"""Broken checkpoints and weights: one line naming the file and what to do; a killed write leaves nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from dermgan.training.checkpoint import save_checkpoint
from faults.conftest import error_line, run

LATEST = "checkpoints/step-0000002.pt"


@pytest.fixture
def copy(run_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    return out


def _without(key: str):
    def damage(path: Path) -> None:
        state = torch.load(path, weights_only=True)
        del state[key]
        torch.save(state, path)

    return damage


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda path: path.write_bytes(b""), "is empty (0 bytes): delete it to resume from the one before"),
        (lambda path: path.write_bytes(path.read_bytes()[:5000]), "cannot be loaded safely: it is corrupt"),
        (lambda path: path.write_bytes(os.urandom(5000)), "not a weights-only PyTorch file"),
        (_without("step"), "lacks step: it is incomplete"),
        (_without("rng_cpu"), "lacks rng_cpu: it is incomplete"),
    ],
)
def test_a_broken_checkpoint_is_one_line_naming_it(monkeypatch, capsys, copy, damage, named):
    damage(copy / LATEST)
    code, _, err = run(
        monkeypatch, capsys, "train", "--resume", copy, "--set", "train.max_steps=3", "--no-progress"
    )
    error_line(code, err, str(copy / LATEST), named)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
        lambda path: path.write_bytes(os.urandom(3000)),
    ],
)
def test_a_truncated_or_random_generator_is_one_line_naming_it(monkeypatch, capsys, copy, tmp_path, damage):
    damage(copy / "generator.safetensors")
    code, _, err = run(monkeypatch, capsys, "generate", "--model", copy, "--out", tmp_path / "g", "--n", "2")
    error_line(
        code, err, str(copy / "generator.safetensors"), "is truncated, corrupt or not a safetensors file"
    )
    assert not (tmp_path / "g").exists()


def test_the_next_checkpoint_removes_what_a_killed_write_left(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    leftover = folder / ".step-0000003.pt.k1ll3d.tmp"
    leftover.write_bytes(b"half a checkpoint")
    other = folder / "notes.tmp"
    other.write_text("not ours")
    state = {"rng_cpu": torch.get_rng_state(), "weights": torch.zeros(3)}
    save_checkpoint(tmp_path, 4, state, keep=3)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.tmp", "step-0000004.pt"]
