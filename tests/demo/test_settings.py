"""The demo's settings: --size picks the crop size and config, and a size it cannot train is refused early."""

from __future__ import annotations

import pytest

from conftest import run_cli
from dermgan.demo.pipeline import FULL, QUICK, demo_settings
from dermgan.errors import UserError


def test_the_size_picks_the_config():
    assert demo_settings(quick=False, ablations=False) == FULL
    assert demo_settings(quick=True, ablations=True).image_size == QUICK.image_size
    gpu = demo_settings(quick=False, ablations=False, size=256)
    assert (gpu.image_size, gpu.config, gpu.train_overrides[0]) == (256, "paper.yaml", "data.size=256")
    assert demo_settings(quick=False, ablations=False, size=128).config == FULL.config


@pytest.mark.parametrize("size", [16, 48, 100])
def test_a_size_the_generator_cannot_take_is_refused_before_any_stage(size, tmp_path, monkeypatch, capsys):
    with pytest.raises(UserError, match="power of two"):
        demo_settings(quick=False, ablations=False, size=size)
    code, _, err = run_cli(monkeypatch, capsys, "demo", "--out", tmp_path / "demo", "--size", size)
    assert code == 1 and "power of two" in err and "Traceback" not in err
    assert not (tmp_path / "demo").exists()


def test_quick_with_a_size_is_refused():
    with pytest.raises(UserError, match="--quick runs at 32 px"):
        demo_settings(quick=True, ablations=False, size=64)
