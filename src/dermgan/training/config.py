"""The training config: YAML validated into typed sections; unknown keys and bad values are clear errors.

`configs/*.yaml` hold presets; `--set section.key=value` overrides any key (the value is read as YAML,
so `--set train.lr=1e-4` is a number and `--set loss.fm_layers=[-2,-3]` a list).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dermgan.errors import UserError
from dermgan.files import write_text


class Section(BaseModel):
    """A config section: unknown keys are errors, and so are bad values assigned later."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Section):
    path: str = ""
    size: int = Field(256, ge=32)
    flip: bool = True
    encoding: Literal["rgb", "onehot"] = "rgb"

    @field_validator("size")
    @classmethod
    def _power_of_two(cls, size: int) -> int:
        if size & (size - 1):
            raise ValueError(f"must be a power of two (32, 64, 128, 256, ...), not {size}")
        return size


class ModelConfig(Section):
    ngf: int = Field(64, ge=1)
    ndf: int = Field(64, ge=1)
    upsample: Literal["resize_conv", "transposed"] = "resize_conv"
    norm: Literal["batch", "instance"] = "batch"
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    padding: Literal["zeros", "reflect", "replicate"] = "zeros"
    n_layers_d: int = Field(3, ge=1, le=6)
    num_scales_d: int = Field(1, ge=1, le=4)


class LossConfig(Section):
    gan_mode: Literal["vanilla", "lsgan", "hinge"] = "vanilla"
    lambda_gan: float = Field(1.0, ge=0.0)
    lambda_l1: float = Field(100.0, ge=0.0)
    lambda_roi: float = Field(100.0, ge=0.0)
    lambda_fm: float = Field(10.0, ge=0.0)
    fm_layers: list[int] = Field(default_factory=lambda: [-2])


class TrainConfig(Section):
    max_steps: int = Field(20000, ge=1)
    batch_size: int = Field(1, ge=1)
    lr: float = Field(2e-4, gt=0.0)
    beta1: float = Field(0.5, ge=0.0, lt=1.0)
    beta2: float = Field(0.999, ge=0.0, lt=1.0)
    adam_eps: float = Field(1e-8, gt=0.0)
    """Adam's epsilon: a gradient much smaller than it moves its weight in proportion, not by +-lr."""
    decay_start: float = Field(0.5, ge=0.0, le=1.0)
    seed: int = 0
    log_every: int = Field(10, ge=1)
    sample_every: int = Field(500, ge=1)
    checkpoint_every: int = Field(1000, ge=1)
    keep_checkpoints: int = Field(3, ge=1)
    num_workers: int = Field(2, ge=0)
    ema_decay: float = Field(0.0, ge=0.0, lt=1.0)
    precision: Literal["fp32", "bf16"] = "fp32"
    channels_last: bool = False
    compile: bool = False
    sync_bn: bool = False


class Config(Section):
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        reason = "is not a known key" if item["type"] == "extra_forbidden" else item["msg"]
        given = "" if item["type"] in ("extra_forbidden", "missing") else f" (got {item['input']!r})"
        lines.append(f"  {key}: {reason}{given}")
    return f"invalid config {source}:\n" + "\n".join(lines)


def apply_override(values: dict[str, Any], assignment: str) -> None:
    """Applies one `section.key=value` to the nested dict `values`."""
    key, separator, text = assignment.partition("=")
    parts = key.strip().split(".")
    if not separator or len(parts) != 2 or not all(parts):
        raise UserError(f"--set {assignment!r} must look like section.key=value, e.g. train.max_steps=500")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    section = values.setdefault(parts[0], {})
    if not isinstance(section, dict):
        raise UserError(f"--set {assignment!r}: {parts[0]} is not a config section")
    section[parts[1]] = value


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A config file's own keys (its `base`, if any, left unresolved)."""
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UserError(f"config {path} does not exist (presets are in configs/)") from None
    except yaml.YAMLError as error:
        raise UserError(f"config {path} is not valid YAML: {error}") from None
    if not isinstance(values, dict):
        raise UserError(f"config {path} must be a mapping of sections (data, model, loss, train)")
    return values


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it, section by section."""
    merged = {section: dict(keys) if isinstance(keys, dict) else keys for section, keys in base.items()}
    for section, keys in changes.items():
        if isinstance(keys, dict) and isinstance(merged.get(section), dict):
            merged[section].update(keys)
        else:
            merged[section] = keys
    return merged


def read_config_file(path: str | os.PathLike[str], seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's values with its `base: OTHER.yaml` chain (relative to the file) resolved."""
    path = Path(path).resolve()
    if path in seen:
        raise UserError(f"config {path} includes itself through `base`")
    values = read_yaml(path)
    base = values.pop("base", None)
    if base is None:
        return values
    return merge(read_config_file(path.parent / str(base), (*seen, path)), values)


Schema = TypeVar("Schema", bound=BaseModel)


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    schema: type[Schema] = Config,
) -> Schema:
    """Defaults <- YAML file <- overrides, validated against `schema` (the GAN's config by default)."""
    values = read_config_file(path) if path is not None else {}
    for assignment in overrides:
        apply_override(values, assignment)
    source = str(path) if path is not None else "(defaults)"
    try:
        return schema.model_validate(values)
    except ValidationError as error:
        raise UserError(_describe(error, source)) from None


def save_config(config: BaseModel, path: str | os.PathLike[str]) -> None:
    write_text(path, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
