"""A classifier run stopped after a checkpoint and resumed ends with the weights of an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import classify_world
import pytest
from safetensors.torch import load_file

from dermgan.classification.trainer import ClassifierTrainer, train_classifier
from dermgan.errors import UserError

world = classify_world.world


def _train(world: classify_world.World, out: Path, **options):
    overrides = world.overrides("train.checkpoint_every=2")
    return train_classifier(
        world.manifest, out, splits=world.prepared, overrides=overrides, progress=False, **options
    )


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_ends(world, tmp_path, monkeypatch):
    whole = _train(world, tmp_path / "whole")
    real_step = ClassifierTrainer._train_step

    def stop_after_step_3(self, *batch):
        if self.step == 3:
            raise KeyboardInterrupt
        return real_step(self, *batch)

    monkeypatch.setattr(ClassifierTrainer, "_train_step", stop_after_step_3)
    with pytest.raises(KeyboardInterrupt):
        _train(world, tmp_path / "cut")
    monkeypatch.setattr(ClassifierTrainer, "_train_step", real_step)
    resumed = train_classifier(resume=tmp_path / "cut", progress=False)

    assert resumed.step == whole.step > 3
    first, second = (
        load_file(str(run / "classifier.safetensors")) for run in (tmp_path / "whole", tmp_path / "cut")
    )
    assert first.keys() == second.keys()
    assert all((first[name] == second[name]).all() for name in first)
    logged = [
        json.loads(line)["step"] for line in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    ]
    assert logged == list(range(1, whole.step + 1))

    again = train_classifier(resume=tmp_path / "cut", progress=False)
    assert (again.step, again.steps_run, again.loss) == (whole.step, 0, None)
    unchanged = load_file(str(tmp_path / "cut" / "classifier.safetensors"))
    assert all((unchanged[name] == second[name]).all() for name in second)


def test_a_new_run_refuses_a_folder_that_holds_one(world, tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "step-0000003.pt").touch()
    with pytest.raises(UserError, match="already holds a run; continue it with --resume"):
        _train(world, tmp_path / "run")
