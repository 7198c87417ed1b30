"""Config values that would crash training are refused before the run directory is made."""

from __future__ import annotations

import pytest

from faults.conftest import error_line, run, train_arguments


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["model.n_layers_d=6"], "model.n_layers_d=6 with model.num_scales_d=1 is too deep for data.size=32"),
        (
            ["model.num_scales_d=4"],
            "model.n_layers_d=3 with model.num_scales_d=4 is too deep for data.size=32",
        ),
        (
            ["model.n_layers_d=2", "model.num_scales_d=3"],
            "at 32 px n_layers_d + num_scales_d - 1 may be at most 3",
        ),
        (["loss.fm_layers=[9]"], "loss.fm_layers [9]: a discriminator with model.n_layers_d=3 has 5 layers"),
        (["loss.fm_layers=[-6]"], "indices run from -5 to 4"),
        (["loss.fm_layers=[]"], "loss.fm_layers is empty while loss.lambda_fm is 10"),
        (["train.seed=18446744073709551616"], "train.seed: Input should be less than 9223372036854775808"),
        (["train.seed=-1"], "train.seed: Input should be greater than or equal to 0"),
    ],
)
def test_a_config_training_would_crash_on_is_one_line_and_writes_nothing(
    monkeypatch, capsys, tmp_path, prepared, overrides, named
):
    out = tmp_path / "run"
    code, _, err = run(monkeypatch, capsys, *train_arguments(prepared, out, *overrides))
    error_line(code, err, "invalid config", named)
    assert not out.exists()


def test_a_feature_layer_list_may_be_empty_when_feature_matching_is_off():
    from dermgan.training.config import load_config

    assert load_config(None, ["loss.fm_layers=[]", "loss.lambda_fm=0"]).loss.fm_layers == []


def test_a_config_file_that_is_not_utf8_is_one_line(monkeypatch, capsys, tmp_path, prepared):
    config = tmp_path / "latin1.yaml"
    config.write_bytes("# réglages\ntrain:\n  lr: 0.0002\n".encode("latin-1"))
    out = tmp_path / "run"
    code, _, err = run(monkeypatch, capsys, *train_arguments(prepared, out), "--config", config)
    error_line(code, err, f"config {config} is not UTF-8 text (byte 0xe9 at offset 3)")
    assert not out.exists()


def test_a_resume_with_a_bad_override_changes_nothing(monkeypatch, capsys, tmp_path, run_dir):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    before = sorted(p.name for p in copy.rglob("*"))
    code, _, err = run(monkeypatch, capsys, "train", "--resume", copy, "--set", "model.n_layers_d=6")
    error_line(code, err, "too deep for data.size=32")
    assert sorted(p.name for p in copy.rglob("*")) == before


def test_a_negative_phantom_seed_is_one_line(monkeypatch, capsys, tmp_path):
    code, _, err = run(
        monkeypatch, capsys, "data", "phantom", "--out", tmp_path / "p", "--n", "2", "--seed", "-1"
    )
    error_line(code, err, "--seed -1 must be 0 or more")
    assert not (tmp_path / "p").exists()
