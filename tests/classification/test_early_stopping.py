"""Validation top-1 after every epoch: the learning curve, the best epoch kept, patience that stops."""

from __future__ import annotations

import json

import classify_world
import pytest
from safetensors.torch import load_file

from dermgan.classification.config import ClassifierConfig
from dermgan.classification.examples import read_case_splits, read_examples
from dermgan.classification.selection import select
from dermgan.classification.trainer import ClassifierTrainer, train_classifier
from dermgan.errors import UserError
from dermgan.training.config import load_config

world = classify_world.world

SCRIPT = [0.3, 0.6, 0.5, 0.55, 0.9, 0.2]
"""Validation top-1 of epochs 1, 2, ...: the best is epoch 2 until epoch 5."""


@pytest.fixture
def scripted(monkeypatch):
    """Epoch scores from SCRIPT instead of the network; the weights each epoch was scored with."""
    scored: list[dict] = []

    def val_top1(self, model):
        scored.append({name: tensor.clone() for name, tensor in model.state_dict().items()})
        return SCRIPT[len(scored) - 1]

    monkeypatch.setattr(ClassifierTrainer, "_val_top1", val_top1)
    return scored


def _train(world, out, *more: str, **options):
    overrides = world.overrides("train.epochs=6", "train.batch_size=16", *more)
    return train_classifier(
        world.manifest, out, splits=world.prepared, overrides=overrides, progress=False, **options
    )


def _same(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all((first[k] == second[k]).all() for k in first)


def test_patience_stops_the_run_and_the_best_epoch_is_the_classifier(world, tmp_path, scripted):
    summary = _train(world, tmp_path / "run", "train.patience=2")
    assert [point.val_top1 for point in summary.curve] == SCRIPT[:4]  # epochs 3 and 4 are no better
    assert [point.epoch for point in summary.curve] == [1, 2, 3, 4]
    per_epoch = summary.curve[0].step
    assert summary.stopped_early and summary.step == 4 * per_epoch < summary.max_steps
    assert all(point.loss > 0 for point in summary.curve)
    assert (summary.best.epoch, summary.best.val_top1) == (2, 0.6)
    kept = load_file(str(tmp_path / "run" / "classifier.safetensors"))
    assert _same(kept, scripted[1]) and not _same(kept, scripted[3])
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["val_top1"] for line in logged if "val_top1" in line] == SCRIPT[:4]
    assert (tmp_path / "run" / "learning-curve.png").stat().st_size > 1000

    again = train_classifier(resume=tmp_path / "run", progress=False)
    assert (again.steps_run, again.stopped_early, again.best.epoch) == (0, True, 2)
    assert _same(load_file(str(tmp_path / "run" / "classifier.safetensors")), kept)


def test_without_patience_every_epoch_runs_and_the_best_is_still_kept(world, tmp_path, scripted):
    summary = _train(world, tmp_path / "run")
    assert [point.val_top1 for point in summary.curve] == SCRIPT
    assert not summary.stopped_early and summary.step == summary.max_steps
    assert summary.best.epoch == 5
    assert _same(load_file(str(tmp_path / "run" / "classifier.safetensors")), scripted[4])


def test_patience_without_validation_photos_is_refused(world, tmp_path):
    real = read_examples(world.manifest, read_case_splits(world.manifest, world.prepared), progress=False)
    chosen = select(real, [], {}, seed=0)
    chosen.val = []
    config = load_config(None, list(world.overrides("train.patience=3")), ClassifierConfig)
    with pytest.raises(UserError, match=r"train.patience=3 .* no validation photos.*train.patience=0"):
        ClassifierTrainer(config, tmp_path / "run", chosen, progress=False)
