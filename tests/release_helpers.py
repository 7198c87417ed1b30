"""A released generator written in-process, for tests of what reads generator.json and its weights."""

from __future__ import annotations

from pathlib import Path

import torch

from dermgan.data.semantic_map import Codebook
from dermgan.models import init_weights
from dermgan.training.config import load_config
from dermgan.training.release import GeneratorInfo, build_generator, save_generator

CONDITIONS = ("acne", "melanoma")


def save_release(folder: Path, *overrides: str, noise_scale: float = 0.5) -> Path:
    """A freshly initialised 32 px generator saved to `folder`; its noise scales (if any) set to
    `noise_scale`, since a new generator's are 0 and would make every seed paint the same image."""
    config = load_config(None, ["data.size=32", "model.ngf=4", *overrides])
    codebook = Codebook.build(CONDITIONS)
    map_channels = codebook.map_channels(config.data.encoding)
    torch.manual_seed(0)
    generator = init_weights(build_generator(config, map_channels))
    with torch.no_grad():
        for injection in generator.noise.values():
            injection.scale.fill_(noise_scale)
    info = GeneratorInfo(step=1, config=config, codebook=codebook, map_channels=map_channels)
    folder.mkdir(parents=True, exist_ok=True)
    save_generator(folder, generator, info)
    return folder
