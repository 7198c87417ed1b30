"""A classifier run directory: what it was trained on (run.json, splits.csv, config.yaml) and, when done,
`classifier.safetensors`; eval and compare read nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from pydantic import BaseModel, ValidationError
from safetensors.torch import load_file, save_file

from dermgan.classification.config import ClassifierConfig
from dermgan.classification.model import build_classifier
from dermgan.classification.pretrained import PretrainedWeights
from dermgan.data.splits import read_splits, write_splits
from dermgan.errors import UserError
from dermgan.files import atomic_path, write_json
from dermgan.training.config import load_config, save_config

CONFIG = "config.yaml"
INPUTS = "run.json"
SPLITS = "splits.csv"
WEIGHTS = "classifier.safetensors"
BEST = "checkpoints/best.safetensors"
"""The best epoch's weights on validation so far (batch norm recomputed), while the run trains."""
CURVE = "learning-curve.png"


class RunInputs(BaseModel):
    """The data of a run, so that --resume, eval and compare need no other argument to find it."""

    data: str
    extra: str | None = None
    generators: list[str] = []
    weights: str | None = None
    weights_left_out: list[str] = []
    """Tensors of the network that --weights did not hold (e.g. a head of another class count): they
    start from random values."""
    pretrained: PretrainedWeights | None = None
    """The installed ImageNet weights the run started from (`model.pretrained=true`), with their licence."""
    classes: list[str]
    train_counts: dict[str, int]
    """Training images per class, real and synthetic together."""
    n_synthetic: int
    n_val: int
    n_test: int


def start_run(run_dir: Path, config: ClassifierConfig, inputs: RunInputs, splits: dict[str, str]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, run_dir / CONFIG)
    write_splits(run_dir / SPLITS, splits)
    write_json(run_dir / INPUTS, inputs.model_dump(mode="json"))


def read_inputs(run_dir: str | os.PathLike[str]) -> RunInputs:
    path = Path(run_dir) / INPUTS
    try:
        return RunInputs.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UserError(
            f"{run_dir} is not a classifier run (no {INPUTS}); train one with `dermgan classify train`"
        ) from None
    except (ValueError, ValidationError) as error:
        raise UserError(f"{path} is not a classifier run description: {error}") from None


def read_run_config(
    run_dir: str | os.PathLike[str], overrides: list[str] | tuple[str, ...] = ()
) -> ClassifierConfig:
    return load_config(Path(run_dir) / CONFIG, overrides, schema=ClassifierConfig)


def read_run_splits(run_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The run's case split; the run is checked first, so a folder of something else says so."""
    read_inputs(run_dir)
    return read_splits(Path(run_dir) / SPLITS)


def save_classifier(run_dir: Path, model: torch.nn.Module, name: str = WEIGHTS) -> Path:
    weights = {key: tensor.detach().cpu().contiguous() for key, tensor in model.state_dict().items()}
    with atomic_path(run_dir / name) as temporary:
        save_file(weights, str(temporary))
    return run_dir / name


def load_classifier(run_dir: str | os.PathLike[str]) -> tuple[torch.nn.Module, ClassifierConfig, RunInputs]:
    """The trained network of a finished run, in evaluation mode, with its config and inputs."""
    run_dir = Path(run_dir)
    inputs, config = read_inputs(run_dir), read_run_config(run_dir)
    model = build_classifier(config.model, len(inputs.classes))
    try:
        model.load_state_dict(load_file(str(run_dir / WEIGHTS)))
    except FileNotFoundError:
        raise UserError(
            f"{run_dir} has no {WEIGHTS}: the run did not finish; continue it with "
            f"`dermgan classify train --resume {run_dir}`"
        ) from None
    except (OSError, RuntimeError) as error:
        raise UserError(f"{run_dir / WEIGHTS} does not hold this run's classifier: {error}") from None
    return model.eval(), config, inputs
