"""The training config: YAML validated into typed sections; unknown keys and bad values are clear errors.

A config is a YAML file or a preset's name (`paper`, `ablations/no-roi-loss`: the package's configs/
folder, so a pip-installed dermgan has them too); `--set section.key=value` overrides any key (the value
is read as YAML, so `--set train.lr=1e-4` is a number and `--set loss.fm_layers=[-2,-3]` a list).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dermgan.errors import UserError
from dermgan.files import is_special_file, write_text
from dermgan.models import noise_resolutions_for
from dermgan.models.generator import size_problem


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
        problem = size_problem(size)
        if problem:
            raise ValueError(problem)
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
    noise_resolutions: list[int] = Field(default_factory=list)
    """Sides in px of the decoder levels that get learned per-pixel noise (2 ... data.size / 2); [] = off."""
    spectral_norm_d: bool = False
    """Spectral norm on every conv of the discriminator."""

    @field_validator("noise_resolutions")
    @classmethod
    def _sorted_once(cls, sides: list[int]) -> list[int]:
        return sorted(set(sides))


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
    lr_d: float | None = Field(None, gt=0.0)
    """The discriminator's own learning rate (two time-scale update rule); null = train.lr."""
    beta1: float = Field(0.5, ge=0.0, lt=1.0)
    beta2: float = Field(0.999, ge=0.0, lt=1.0)
    adam_eps: float = Field(1e-8, gt=0.0)
    """Adam's epsilon: a gradient much smaller than it moves its weight in proportion, not by +-lr."""
    decay_start: float = Field(0.5, ge=0.0, le=1.0)
    seed: int = Field(0, ge=0, lt=2**63)
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

    @property
    def discriminator_lr(self) -> float:
        return self.lr if self.lr_d is None else self.lr_d


class Config(Section):
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @model_validator(mode="after")
    def _noise_at_decoder_levels(self) -> Config:
        levels = noise_resolutions_for(self.data.size)
        outside = sorted(set(self.model.noise_resolutions) - set(levels))
        if outside:
            raise ValueError(
                f"model.noise_resolutions {outside}: a {self.data.size} px generator's decoder levels have "
                f"sides {levels}; pick from those, or [] for no noise"
            )
        return self

    @model_validator(mode="after")
    def _discriminator_fits(self) -> Config:
        problems = [*discriminator_depth_problems(self), *feature_layer_problems(self)]
        if problems:
            raise ValueError("\n  ".join(problems))
        return self


SMALLEST_PATCH_SIDE = 4
"""Side in px of the input the last PatchGAN block sees: its two stride-1 4x4 convs need at least 4."""


def discriminator_depth_problems(config: Config) -> list[str]:
    """Each PatchGAN scale halves the image n_layers_d times, and each further scale halves it once more."""
    model, size = config.model, config.data.size
    halvings = model.n_layers_d + model.num_scales_d - 1
    if size >> halvings >= SMALLEST_PATCH_SIDE:
        return []
    most = (size // SMALLEST_PATCH_SIDE).bit_length() - 1
    return [
        f"model.n_layers_d={model.n_layers_d} with model.num_scales_d={model.num_scales_d} is too deep for "
        f"data.size={size}: the coarsest scale would judge patches of {size / 2**halvings:g} px, under the "
        f"{SMALLEST_PATCH_SIDE} px its last convolutions need; at {size} px n_layers_d + num_scales_d - 1 "
        f"may be at most {most}"
    ]


def feature_layer_problems(config: Config) -> list[str]:
    """loss.fm_layers index the discriminator's n_layers_d + 2 activations (negative from the end)."""
    loss, n_activations = config.loss, config.model.n_layers_d + 2
    if not loss.fm_layers:
        if loss.lambda_fm > 0:
            return [
                f"loss.fm_layers is empty while loss.lambda_fm is {loss.lambda_fm:g}: name at least one "
                "layer (the paper's [-2]) or set loss.lambda_fm=0"
            ]
        return []
    outside = [index for index in loss.fm_layers if not -n_activations <= index < n_activations]
    if not outside:
        return []
    return [
        f"loss.fm_layers {outside}: a discriminator with model.n_layers_d={config.model.n_layers_d} has "
        f"{n_activations} layers, so indices run from {-n_activations} to {n_activations - 1} "
        "(-2, the paper's, is the second-to-last)"
    ]


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if not key:  # a check across sections, whose message names its keys
            lines.append("  " + item["msg"].removeprefix("Value error, "))
            continue
        reason = "is not a known key" if item["type"] == "extra_forbidden" else item["msg"]
        given = "" if item["type"] in ("extra_forbidden", "missing") else f" (got {item['input']!r})"
        lines.append(f"  {key}: {reason}{given}")
    if len(lines) == 1:
        return f"invalid config {source}: {lines[0].strip()}"
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
    if is_special_file(path):
        raise UserError(f"config {path} is not a regular file (a FIFO, socket or device); give a YAML file")
    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UserError(
            f"config {path} does not exist; give a YAML file or a preset: {', '.join(preset_names())}"
        ) from None
    except UnicodeDecodeError as error:
        raise UserError(
            f"config {path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); re-save it as UTF-8"
        ) from None
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


PRESETS = Path(str(files("dermgan") / "configs"))
"""The presets' folder inside the installed package (a real folder: dermgan is never imported from a zip),
so a preset's `base:` resolves next to it like a user's file's."""


def preset_names() -> list[str]:
    """Each preset's path under PRESETS without `.yaml`, the name `--config` and `base:` take."""
    return sorted(file.relative_to(PRESETS).with_suffix("").as_posix() for file in PRESETS.rglob("*.yaml"))


def config_file(config: str | os.PathLike[str], folder: Path = Path()) -> Path:
    """The file CONFIG names: a preset's, by name, or else CONFIG as a path (relative to FOLDER)."""
    name = Path(config).as_posix()
    if name in preset_names():
        return PRESETS / f"{name}.yaml"
    return folder / config


def read_config_file(
    config: str | os.PathLike[str], seen: tuple[Path, ...] = (), folder: Path = Path()
) -> dict[str, Any]:
    """A config's values with its `base:` chain resolved: a preset's name, or a file relative to the one
    that names it."""
    path = config_file(config, folder).resolve()
    if path in seen:
        raise UserError(f"config {path} includes itself through `base`")
    values = read_yaml(path)
    base = values.pop("base", None)
    if base is None:
        return values
    return merge(read_config_file(str(base), (*seen, path), path.parent), values)


Schema = TypeVar("Schema", bound=BaseModel)


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    schema: type[Schema] = Config,
) -> Schema:
    """Defaults <- YAML file or preset <- overrides, validated against `schema` (the GAN's by default)."""
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
