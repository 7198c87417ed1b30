"""Training callbacks: called at their steps with the generator to be released, logged once per point."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from conftest import TINY
from dermgan.training.callbacks import TrainingMoment, evenly_spaced_steps
from dermgan.training.checkpoint import latest_checkpoint
from dermgan.training.config import load_config
from dermgan.training.release import WEIGHTS
from dermgan.training.trainer import Trainer, train


class RecordingCallback:
    """Due at fixed steps; records what it was handed and returns the step as its number."""

    def __init__(self, steps: set[int]) -> None:
        self.steps = steps
        self.moments: list[TrainingMoment] = []
        self.training_flags: list[bool] = []

    def due(self, step: int, max_steps: int) -> bool:
        return step in self.steps

    def __call__(self, moment: TrainingMoment) -> dict[str, float]:
        self.moments.append(moment)
        self.training_flags.append(moment.generator.training)
        return {"kid": float(moment.step), "kid_std": 0.5}


def _lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_callback_runs_at_its_steps_and_its_numbers_join_that_steps_line(phantom_32: Path, tmp_path):
    callback = RecordingCallback({2, 5})
    overrides = (*TINY, "train.max_steps=6", "train.log_every=3")
    train(phantom_32, tmp_path / "run", overrides=overrides, progress=False, callbacks=[callback])

    assert [moment.step for moment in callback.moments] == [2, 5]
    assert callback.training_flags == [False, False]
    lines = _lines(tmp_path / "run")
    assert [line["step"] for line in lines] == [2, 3, 5, 6], "a measured step is logged even off log_every"
    assert [(line["step"], line["kid"]) for line in lines if "kid" in line] == [(2, 2.0), (5, 5.0)]
    assert all("loss_g" in line for line in lines)


def test_the_callback_gets_the_ema_generator_when_there_is_one(phantom_32: Path, tmp_path):
    config = load_config(overrides=(*TINY, "train.max_steps=2", "train.ema_decay=0.9"))
    config.data.path = str(phantom_32)
    callback = RecordingCallback({2})
    trainer = Trainer(config, tmp_path / "run", resume=False, progress=False, callbacks=[callback])
    trainer.fit()
    assert callback.moments[0].generator is trainer.ema.module
    assert callback.moments[0].config is config


def test_each_point_is_logged_once_across_a_kill_and_a_resume(phantom_32: Path, tmp_path):
    run = tmp_path / "run"
    overrides = (*TINY, "train.max_steps=6", "train.checkpoint_every=4")
    first = RecordingCallback({3, 6, 9})
    train(phantom_32, run, overrides=overrides, progress=False, callbacks=[first])
    # A kill after step 6 was logged but before its checkpoint was written: the run resumes from step 4.
    latest_checkpoint(run).unlink()
    assert latest_checkpoint(run).name == "step-0000004.pt"

    second = RecordingCallback({3, 6, 9})
    train(resume=run, overrides=["train.max_steps=10"], progress=False, callbacks=[second])

    assert [moment.step for moment in first.moments] == [3, 6]
    assert [moment.step for moment in second.moments] == [6, 9]
    lines = _lines(run)
    assert [line["step"] for line in lines] == list(range(1, 11))
    assert [line["step"] for line in lines if "kid" in line] == [3, 6, 9]


class RandomDrawingCallback(RecordingCallback):
    """Draws from torch's global random stream, as a data loader or a noise draw inside a callback does."""

    def __call__(self, moment: TrainingMoment) -> dict[str, float]:
        torch.rand(1000)
        return super().__call__(moment)


def test_a_callback_that_draws_randomness_leaves_the_trained_weights_as_they_were(phantom_32: Path, tmp_path):
    overrides = (*TINY, "train.max_steps=4", "model.dropout=0.5")
    train(phantom_32, tmp_path / "plain", overrides=overrides, progress=False)
    callback = RandomDrawingCallback({1, 2, 3})
    train(phantom_32, tmp_path / "measured", overrides=overrides, progress=False, callbacks=[callback])
    plain, measured = (load_file(str(tmp_path / name / WEIGHTS)) for name in ("plain", "measured"))
    assert plain.keys() == measured.keys()
    assert all(torch.equal(plain[key], measured[key]) for key in plain)


def test_evenly_spaced_steps_end_at_the_last_step():
    assert evenly_spaced_steps(4, 100) == {25, 50, 75, 100}
    assert evenly_spaced_steps(1, 7) == {7}
    assert evenly_spaced_steps(5, 3) == {1, 2, 3}
