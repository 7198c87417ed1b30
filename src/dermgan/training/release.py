"""The released generator: `generator.safetensors` + `generator.json` (config + codebook) + `MODEL_CARD.md`.

Like a `save_pretrained` directory: everything inference needs, and nothing that can run code on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dermgan.data.dataset import PreparedPairs
from dermgan.data.phantom.dataset import names_phantom
from dermgan.data.semantic_map import Codebook
from dermgan.errors import UserError
from dermgan.files import atomic_path, write_json, write_text
from dermgan.models import UNetGenerator
from dermgan.training.config import Config

WEIGHTS = "generator.safetensors"
INFO = "generator.json"
CARD = "MODEL_CARD.md"
FORMAT = "dermgan-generator"
FORMAT_VERSION = 2
"""2: the config may hold model.noise_resolutions (and the weights their noise scales). A generator.json
without a version predates versioning and is read as 1."""


class GeneratorInfo(BaseModel):
    format: str = FORMAT
    format_version: int = Field(FORMAT_VERSION, ge=1)
    step: int
    config: Config
    codebook: Codebook
    map_channels: int
    datasets: list[str] = []
    licences: list[str] = []
    """Of the training data: synthetic images inherit them."""


def data_provenance(pairs: PreparedPairs) -> tuple[list[str], list[str]]:
    """(datasets, licences) named in the training rows, sorted; empty when the manifest records none."""
    datasets = sorted({row.get("dataset", "") for row in pairs.rows} - {""})
    licences = sorted({row.get("license", "") for row in pairs.rows} - {""})
    return datasets, licences


def build_generator(config: Config, map_channels: int) -> UNetGenerator:
    model = config.model
    return UNetGenerator(
        map_channels,
        3,
        size=config.data.size,
        ngf=model.ngf,
        upsample=model.upsample,
        norm=model.norm,
        dropout=model.dropout,
        padding=model.padding,
        noise_resolutions=model.noise_resolutions,
    )


def save_generator(run_dir: str | os.PathLike[str], generator: torch.nn.Module, info: GeneratorInfo) -> Path:
    run_dir = Path(run_dir)
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in generator.state_dict().items()}
    with atomic_path(run_dir / WEIGHTS) as temporary:
        save_file(weights, str(temporary), metadata={"format": FORMAT})
    write_json(run_dir / INFO, info.model_dump(mode="json"))
    return run_dir / WEIGHTS


def generator_sha256(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_info(folder: Path) -> GeneratorInfo:
    """`folder`/generator.json, of any format version this code knows (UserError for a newer one)."""
    try:
        values = json.loads((folder / INFO).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{folder} has no {INFO}: give a finished run directory or its {WEIGHTS}") from None
    except ValueError as error:
        raise UserError(f"{folder / INFO} is not valid JSON: {error}") from None
    version = values.setdefault("format_version", 1) if isinstance(values, dict) else None
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise UserError(
            f"{folder / INFO} has format_version {version}, newer than this dermgan reads "
            f"({FORMAT_VERSION}): upgrade dermgan (pip install -U dermgan) to load this generator"
        )
    try:
        return GeneratorInfo.model_validate(values)
    except ValueError as error:
        raise UserError(f"{folder / INFO} is not a dermgan generator description: {error}") from None


def load_generator(path: str | os.PathLike[str]) -> tuple[UNetGenerator, GeneratorInfo]:
    """A run directory or its generator.safetensors -> (generator in eval mode, its info)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    info = read_info(folder)
    generator = build_generator(info.config, info.map_channels)
    weights = folder / WEIGHTS
    try:
        state = load_file(str(weights))
    except FileNotFoundError:
        raise UserError(f"{folder} has no {WEIGHTS}: give a finished run directory or its file") from None
    except (SafetensorError, OSError) as error:
        raise UserError(
            f"{weights} is truncated, corrupt or not a safetensors file ({error}): copy it again from "
            "its run directory"
        ) from None
    try:
        generator.load_state_dict(state)
    except RuntimeError as error:
        raise UserError(f"{weights} does not hold this generator's weights: {error}") from None
    return generator.eval(), info


def _counts_table(pairs: PreparedPairs) -> str:
    counts = Counter((row["condition"], row["skin_type"] or "unknown") for row in pairs.rows)
    skin_types = sorted({t for _, t in counts})
    lines = ["| condition | " + " | ".join(f"type {t}" for t in skin_types) + " | total |"]
    lines.append("|---" * (len(skin_types) + 2) + "|")
    for condition in pairs.codebook.conditions:
        cells = [counts.get((condition, t), 0) for t in skin_types]
        lines.append(f"| {condition} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    return "\n".join(lines)


def write_model_card(
    run_dir: str | os.PathLike[str], config: Config, pairs: PreparedPairs, step: int
) -> Path:
    """MODEL_CARD.md: what the generator learned from, how, and what it cannot be trusted with."""
    datasets, licences = data_provenance(pairs)
    datasets, licences = datasets or ["not recorded"], licences or ["not recorded"]
    phantom = names_phantom(datasets)
    loss = config.loss
    terms = [
        f"GAN ({loss.gan_mode}) x {loss.lambda_gan}",
        f"whole-image L1 x {loss.lambda_l1}",
        f"ROI L1 x {loss.lambda_roi}",
        f"feature matching (layers {loss.fm_layers}) x {loss.lambda_fm}",
    ]
    limits = [
        f"Trained at {config.data.size} px for {step} steps; images are only as varied as the "
        f"{len(pairs)} training crops.",
        "Conditions and skin types with few crops above are learned poorly; check per-cell metrics "
        "before using synthetic images of them.",
        "Synthetic images are not clinical evidence and inherit the licence of the training data.",
    ]
    if phantom:
        limits.insert(0, "**Trained on the synthetic phantom dataset: it has never seen a real skin photo.**")
    model, train = config.model, config.train
    noise = f"noise at {model.noise_resolutions} px" if model.noise_resolutions else "no noise"
    spectral = ", spectral norm" if model.spectral_norm_d else ""
    header = f"""# Model card: DermGAN generator

- Architecture: U-Net generator ({model.upsample}, ngf {model.ngf}, {model.norm} norm, {noise}),
  PatchGAN discriminator ({model.n_layers_d} layers, {model.num_scales_d} scale(s){spectral}).
- Data: `{config.data.path}`, train split only: {len(pairs)} crops of {config.data.size} px.
- Dataset(s): {", ".join(datasets)}. Licence(s): {", ".join(licences)}.
- Losses: {"; ".join(terms)} (weight 0 = off).
- Optimiser: Adam lr {train.lr} (discriminator {train.discriminator_lr}),
  betas ({train.beta1}, {train.beta2}), eps {train.adam_eps}, batch {train.batch_size},
  linear decay from {train.decay_start:.0%} of {train.max_steps} steps.
- Steps trained: {step}. Seed: {train.seed}. EMA decay: {train.ema_decay or "off"}.

## Conditions and skin types seen (training crops)

{_counts_table(pairs)}

## Known limits

"""
    text = header + "".join(f"- {limit}\n" for limit in limits)
    write_text(Path(run_dir) / CARD, text)
    return Path(run_dir) / CARD
