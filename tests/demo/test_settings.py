"""The demo's settings: --size picks the crop size and config, and a size it cannot train is refused early."""

from __future__ import annotations

import pytest

from conftest import run_cli
from dermgan.demo.pipeline import FULL, QUICK, demo_settings
from dermgan.errors import UserError
from dermgan.training.config import load_config


def test_the_size_picks_the_config():
    assert demo_settings(quick=False, ablations=False) == FULL
    assert demo_settings(quick=True, ablations=True).image_size == QUICK.image_size
    gpu = demo_settings(quick=False, ablations=False, size=256)
    assert (gpu.image_size, gpu.config, gpu.train_overrides[0]) == (256, "paper", "data.size=256")
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


def test_the_demo_phantom_tests_at_least_30_photos_of_the_rare_condition():
    """The classifier study needs intervals narrower than the range: 30 or more rare test photos."""
    from dermgan.data.manifest import Record
    from dermgan.data.phantom.labels import plan_cases
    from dermgan.data.splits import assign_splits

    cases = plan_cases(FULL.n_photos, FULL.seed, FULL.condition_weights)
    records = [
        Record(
            row=case.number,
            image=f"{case.number}.jpg",
            condition=case.condition,
            case_id=f"phantom-case-{case.number:06d}",
        )
        for case in cases
    ]
    splits = assign_splits(records, seed=FULL.seed)
    rare_test_photos = sum(
        case.photos
        for case in cases
        if case.condition == FULL.rare_condition and splits[f"phantom-case-{case.number:06d}"] == "test"
    )
    assert rare_test_photos >= 30


def test_with_ablations_every_row_is_trained_and_tabled_with_each_seed(tmp_path, monkeypatch):
    from dermgan.demo import pipeline
    from dermgan.demo.layout import DemoLayout
    from dermgan.evaluation import ablation

    settings = demo_settings(quick=False, ablations=True)
    assert (settings.ablation_seeds, QUICK.ablation_seeds) == (3, 1)
    trained, tables = [], []
    monkeypatch.setattr(pipeline, "_curve", lambda paths, settings: [])
    monkeypatch.setattr(
        ablation, "train_row", lambda name, data, run, **kw: trained.append((name, run, kw["overrides"][-1]))
    )
    monkeypatch.setattr(ablation, "run_ablation", lambda data, out, **kw: tables.append(kw))
    paths = DemoLayout(tmp_path)
    pipeline._train_ablations(paths, settings, progress=False)
    pipeline._table(paths, settings, progress=False)
    # 4 rows x 3 seeds, less DermGAN's first seed: that is the main run, trained by the train stage.
    assert len(trained) == 11 and paths.run not in [run for _, run, _ in trained]
    assert ("dermgan", paths.ablation_runs / "dermgan-seed2", "train.seed=2") in trained
    assert ("no-roi-loss", paths.ablation_runs / "no-roi-loss", "train.seed=0") in trained
    [table] = tables
    assert table["seeds"] == [0, 1, 2] and len(table["runs"]) == 12
    assert table["runs"]["dermgan"] == str(paths.run)
    assert table["runs"]["no-roi-loss-seed1"] == str(paths.ablation_runs / "no-roi-loss-seed1")


@pytest.mark.parametrize(("quick", "size"), [(True, None), (False, 32), (False, 64), (False, 128)])
def test_every_demo_size_makes_a_valid_training_config(quick, size):
    """The preset puts decoder noise at 32 px, which a 32 px generator does not have as a level."""
    settings = demo_settings(quick=quick, ablations=False, size=size)
    config = load_config(settings.config, list(settings.train_overrides))
    assert config.data.size == settings.image_size
    assert config.model.noise_resolutions and max(config.model.noise_resolutions) < config.data.size
