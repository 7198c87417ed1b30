"""A run started from --weights records, and reports, which tensors the file did not hold."""

from __future__ import annotations

import json

import classify_world
from safetensors.torch import save_file

from dermgan.classification.config import ClassifierModel
from dermgan.classification.model import build_classifier
from dermgan.classification.trainer import train_classifier

world = classify_world.world


def test_a_run_from_weights_of_another_head_names_the_head_as_left_out(world, tmp_path):
    imagenet = build_classifier(ClassifierModel(arch="mobilenet_v3_small"), 1000)
    weights = tmp_path / "imagenet.safetensors"
    save_file({name: tensor.contiguous() for name, tensor in imagenet.state_dict().items()}, str(weights))
    summary = train_classifier(
        world.manifest,
        tmp_path / "run",
        splits=world.prepared,
        weights=weights,
        overrides=world.overrides("train.epochs=0.1"),
        progress=False,
    )
    head = ["classifier.3.bias", "classifier.3.weight"]
    assert (summary.weights, summary.weights_left_out) == (str(weights.resolve()), head)
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())
    assert (recorded["weights"], recorded["weights_left_out"]) == (str(weights.resolve()), head)
