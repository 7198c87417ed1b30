"""Configs: presets load by name, overrides apply, and every mistake is one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermgan.errors import UserError
from dermgan.training.config import PRESETS, load_config, preset_names, save_config
from dermgan.training.trainer import train
from faults.conftest import error_line, run

REQUIRED_KEYS = [
    "data.size",
    "model.ngf",
    "model.upsample",
    "loss.gan_mode",
    "loss.lambda_l1",
    "loss.lambda_roi",
    "loss.lambda_fm",
    "train.max_steps",
    "train.batch_size",
    "train.lr",
    "train.seed",
    "train.sample_every",
    "train.checkpoint_every",
    "train.num_workers",
]


@pytest.mark.parametrize("name", ["paper", "demo-cpu", "fidelity-cpu"])
def test_presets_load_and_have_the_documented_keys(name: str):
    config = load_config(name).model_dump()
    for key in REQUIRED_KEYS:
        section, field = key.split(".")
        assert field in config[section], key


def test_the_presets_are_named_by_their_path_under_the_packages_configs():
    assert preset_names() == [
        "ablations/no-feature-matching",
        "ablations/no-resize-conv",
        "ablations/no-roi-loss",
        "demo-cpu",
        "fidelity-cpu",
        "paper",
    ]


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_by_name_from_any_folder(name: str, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(name) == load_config(PRESETS / f"{name}.yaml")


def test_a_users_file_is_a_path_whose_base_is_a_preset_or_a_file_beside_it(tmp_path: Path, monkeypatch):
    (tmp_path / "common.yaml").write_text("base: demo-cpu\ntrain:\n  seed: 7\n")
    (tmp_path / "mine.yaml").write_text("base: common.yaml\nmodel:\n  ngf: 8\n")
    expected = load_config("demo-cpu", ["train.seed=7", "model.ngf=8"])
    assert load_config(tmp_path / "mine.yaml") == expected
    monkeypatch.chdir(tmp_path)
    assert load_config("mine.yaml") == expected


def test_an_unknown_preset_is_one_error_line_that_names_the_presets(monkeypatch, capsys, tmp_path: Path):
    with pytest.raises(UserError, match="papr does not exist; give a YAML file or a preset: ablations/"):
        load_config("papr")
    code, _, err = run(
        monkeypatch, capsys, "train", "--data", tmp_path, "--out", tmp_path / "run", "--config", "papr"
    )
    error_line(code, err, "papr does not exist", *preset_names())
    assert not (tmp_path / "run").exists()


def test_fidelity_preset_is_demo_cpu_with_reflection_padding_lighter_l1_and_decoder_noise():
    demo = load_config("demo-cpu").model_dump()
    fidelity = load_config("fidelity-cpu").model_dump()
    changed = {
        (section, key): value
        for section, keys in fidelity.items()
        for key, value in keys.items()
        if demo[section][key] != value
    }
    assert changed == {
        ("model", "padding"): "reflect",
        ("model", "noise_resolutions"): [8, 16, 32],
        ("loss", "lambda_l1"): 10.0,
        ("loss", "lambda_roi"): 10.0,
    }


def test_paper_preset_is_the_paper_setting():
    config = load_config("paper")
    assert config.data.size == 256 and config.model.upsample == "resize_conv"
    assert config.loss.lambda_roi > 0 and config.loss.lambda_fm > 0 and config.loss.lambda_l1 == 100
    assert (config.train.lr, config.train.beta1, config.train.beta2) == (2e-4, 0.5, 0.999)


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("no-resize-conv", ("model", "upsample", "transposed")),
        ("no-roi-loss", ("loss", "lambda_roi", 0.0)),
        ("no-feature-matching", ("loss", "lambda_fm", 0.0)),
    ],
)
def test_each_ablation_changes_exactly_one_key_of_the_paper(name, changed):
    paper = load_config("paper").model_dump()
    ablation = load_config(f"ablations/{name}").model_dump()
    section, key, value = changed
    assert ablation[section][key] == value
    paper[section][key] = value
    assert ablation == paper


def test_overrides_are_typed_and_applied_last():
    config = load_config("paper", ["train.max_steps=50", "loss.fm_layers=[-2, -3]", "data.size=64"])
    assert config.train.max_steps == 50 and config.loss.fm_layers == [-2, -3] and config.data.size == 64


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["train.lrr=1"], "train.lrr: is not a known key"),
        (["data.size=48"], "must be a power of two"),
        (["loss.gan_mode=wgan"], "loss.gan_mode: Input should be 'vanilla', 'lsgan' or 'hinge'"),
        (["train.lr=-1"], "train.lr: Input should be greater than 0"),
        (["train.batch_size=many"], "train.batch_size: Input should be a valid integer"),
        (["trainmax_steps=5"], "must look like section.key=value"),
        (["optimizer.lr=1"], "optimizer: is not a known key"),
        (["train.lr_d=0"], "train.lr_d: Input should be greater than 0"),
        (["model.spectral_norm_d=maybe"], "model.spectral_norm_d: Input should be a valid boolean"),
        (
            ["data.size=32", "model.noise_resolutions=[32, 8]"],
            "model.noise_resolutions [32]: a 32 px generator's decoder levels have sides [2, 4, 8, 16]",
        ),
    ],
)
def test_bad_configs_are_named(overrides, needle):
    with pytest.raises(UserError, match=None) as error:
        load_config(None, overrides)
    assert needle in str(error.value)


def test_bad_files(tmp_path: Path):
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    (tmp_path / "broken.yaml").write_text("data: [\n")
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    for name, needle in [
        ("list", "mapping of sections"),
        ("broken", "not valid YAML"),
        ("loop", "includes itself"),
        ("missing", "does not exist"),
    ]:
        with pytest.raises(UserError, match=needle):
            load_config(tmp_path / f"{name}.yaml")


def test_saved_config_reloads_identically(tmp_path: Path):
    config = load_config("demo-cpu", ["train.seed=7"])
    save_config(config, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == config


def test_noise_the_generator_cannot_take_stops_training_before_anything_is_written(tmp_path: Path):
    with pytest.raises(UserError, match=r"model.noise_resolutions \[64\]"):
        train(
            tmp_path / "prepared",
            tmp_path / "run",
            overrides=["data.size=32", "model.noise_resolutions=[64]"],
        )
    assert not (tmp_path / "run").exists()


def test_the_new_switches_default_to_the_recipe_without_them():
    config = load_config(None, ["train.lr=3e-4", "model.noise_resolutions=[16, 4, 16]"])
    assert config.model.noise_resolutions == [4, 16]
    defaults = load_config(None, ["train.lr=3e-4"])
    assert defaults.model.noise_resolutions == [] and not defaults.model.spectral_norm_d
    assert defaults.train.lr_d is None and defaults.train.discriminator_lr == 3e-4
