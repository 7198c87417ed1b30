"""Guards: a diverging loss stops the run naming step and term; broken or foreign checkpoints are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import TINY
from dermgan.errors import UserError
from dermgan.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from dermgan.training.step import GanStep
from dermgan.training.trainer import TrainingDiverged, train

RUN = (*TINY, "train.max_steps=6", "train.checkpoint_every=2")


def test_a_nan_loss_stops_the_run_with_step_and_term_and_saves_nothing_of_it(
    phantom_32: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_step = GanStep.__call__
    calls = []

    def diverge_at_step_3(self, *batch):
        values = real_step(self, *batch)
        calls.append(1)
        if len(calls) == 3:
            values["loss_g_fm"] = torch.tensor(float("nan"))
        return values

    monkeypatch.setattr(GanStep, "__call__", diverge_at_step_3)
    with pytest.raises(TrainingDiverged, match=r"step 3: loss_g_fm = nan"):
        train(phantom_32, tmp_path / "run", overrides=RUN, progress=False)
    assert [step for step, _ in list_checkpoints(tmp_path / "run")] == [2]
    assert not (tmp_path / "run" / "generator.safetensors").exists()


def test_resume_refuses_a_corrupt_checkpoint(phantom_32: Path, tmp_path: Path):
    run = tmp_path / "run"
    train(phantom_32, run, overrides=RUN, progress=False)
    latest = latest_checkpoint(run)
    latest.write_bytes(latest.read_bytes()[:1000])
    with pytest.raises(UserError, match="corrupt or not a dermgan checkpoint"):
        train(resume=run, overrides=["train.max_steps=8"], progress=False)


def test_resume_refuses_a_checkpoint_of_other_networks(phantom_32: Path, tmp_path: Path):
    run = tmp_path / "run"
    train(phantom_32, run, overrides=RUN, progress=False)
    with pytest.raises(UserError, match="does not match this run's networks"):
        train(resume=run, overrides=["model.ngf=16", "train.max_steps=8"], progress=False)


class _Payload:
    def __reduce__(self):
        return (print, ("this ran on load",))


def test_checkpoints_never_unpickle_code(tmp_path: Path, capsys: pytest.CaptureFixture):
    save_checkpoint(tmp_path, 1, {"generator": {}}, keep=3)
    path = latest_checkpoint(tmp_path)
    torch.save({"format": "dermgan-checkpoint", "version": 1, "step": 1, "evil": _Payload()}, path)
    with pytest.raises(UserError, match="cannot be loaded safely"):
        load_checkpoint(path)
    assert "this ran on load" not in capsys.readouterr().out


def test_foreign_files_are_not_checkpoints(tmp_path: Path):
    foreign = tmp_path / "checkpoints" / "step-0000001.pt"
    foreign.parent.mkdir()
    torch.save({"state_dict": {"weight": torch.zeros(2)}}, foreign)
    with pytest.raises(UserError, match="is not a dermgan checkpoint"):
        load_checkpoint(foreign)
    save_checkpoint(tmp_path, 2, {}, keep=3)
    newer = latest_checkpoint(tmp_path)
    torch.save({"format": "dermgan-checkpoint", "version": 99, "step": 2}, newer)
    with pytest.raises(UserError, match="version 99"):
        load_checkpoint(newer)
