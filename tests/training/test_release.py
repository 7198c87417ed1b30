"""generator.json's format version: a noise generator rebuilds as saved, older files load, newer ones not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dermgan.errors import UserError
from dermgan.training.release import FORMAT_VERSION, INFO, WEIGHTS, load_generator
from release_helpers import save_release

NOISE = "model.noise_resolutions=[4,16]"


def _edit_info(folder: Path, edit) -> None:
    values = json.loads((folder / INFO).read_text())
    edit(values)
    (folder / INFO).write_text(json.dumps(values))


def test_a_noise_generator_records_its_format_version_and_noise_and_reloads_the_same(tmp_path: Path):
    folder = save_release(tmp_path / "noisy", NOISE)
    values = json.loads((folder / INFO).read_text())
    assert values["format_version"] == FORMAT_VERSION
    assert values["config"]["model"]["noise_resolutions"] == [4, 16]

    generator, info = load_generator(folder)
    assert generator.noise_resolutions == (4, 16) and info.format_version == FORMAT_VERSION
    saved = load_file(folder / WEIGHTS)
    assert {"noise.4.scale", "noise.16.scale"} <= set(saved)
    for name, tensor in generator.state_dict().items():
        torch.testing.assert_close(tensor, saved[name], msg=name)


def test_a_generator_json_from_before_format_versions_still_loads(tmp_path: Path):
    folder = save_release(tmp_path / "old")

    def written_the_old_way(values: dict) -> None:
        del values["format_version"]
        del values["config"]["model"]["noise_resolutions"], values["config"]["model"]["spectral_norm_d"]
        del values["config"]["train"]["lr_d"]

    _edit_info(folder, written_the_old_way)
    generator, info = load_generator(folder)
    assert info.format_version == 1
    assert generator.noise_resolutions == () and not list(generator.noise.parameters())
    assert info.config.train.discriminator_lr == info.config.train.lr


def test_without_its_noise_key_a_noise_generator_json_does_not_fit_its_weights(tmp_path: Path):
    folder = save_release(tmp_path / "noisy", NOISE)
    _edit_info(folder, lambda values: values["config"]["model"].pop("noise_resolutions"))
    with pytest.raises(UserError, match="does not hold this generator's weights"):
        load_generator(folder)


def test_a_newer_format_version_is_refused_with_what_to_do(tmp_path: Path):
    folder = save_release(tmp_path / "future")
    _edit_info(folder, lambda values: values.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(UserError, match=f"format_version {FORMAT_VERSION + 1}, newer .* upgrade dermgan"):
        load_generator(folder)
