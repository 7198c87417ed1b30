"""The grid search on tiny models: ranks variants on the validation split, measures the chosen one on test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fid_helpers import tiny_network

from conftest import TINY, run_cli
from dermgan.errors import UserError
from dermgan.evaluation import ablation as ablation_module
from dermgan.evaluation import fid as fid_module
from dermgan.evaluation.grid import grid_product, grid_variants, read_variants, run_grid
from dermgan.evaluation.image_sets import load_image_set
from dermgan.training.config import load_config

BASE = (*TINY, "train.max_steps=3")


@pytest.fixture(scope="module")
def searched(phantom_32: Path, tmp_path_factory: pytest.TempPathFactory):
    """A two-variant grid, with every render and evaluation recorded: (split, reference images)."""
    out = tmp_path_factory.mktemp("grid")
    calls: list[tuple[str, object]] = []
    render, evaluate = ablation_module.render_crops, ablation_module.evaluate

    def recorded_render(model, data, synthetic, *, split, **options):
        calls.append(("render", split, Path(model).name))
        return render(model, data, synthetic, split=split, **options)

    def recorded_evaluate(reference, synthetic, **options):
        calls.append(("evaluate", frozenset(reference.paths), Path(synthetic)))
        return evaluate(reference, synthetic, **options)

    options = dict(trials=3, network=tiny_network(), cache=out / "cache", workers=0, progress=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ablation_module, "render_crops", recorded_render)
        patch.setattr(ablation_module, "evaluate", recorded_evaluate)
        variants = grid_product(["loss.lambda_fm=0,10", "model.ngf=4,8"])
        result = run_grid(phantom_32, out, variants, overrides=BASE, **options)
    return out, result, calls, options


def test_the_chosen_variant_is_the_validation_best_and_test_is_measured_once(searched, phantom_32):
    out, result, calls, _ = searched
    assert len(result.variants) == 4
    kids = {variant.name: variant.val_kid for variant in result.variants}
    assert result.chosen == min(kids, key=kids.__getitem__) == result.variants[0].name
    assert [variant.rank for variant in result.variants] == [1, 2, 3, 4]
    assert sorted(kids.values()) == [variant.val_kid for variant in result.variants]
    assert result.test.name == result.chosen and result.test.kid is not None
    val = set(load_image_set(phantom_32, split="val").paths)
    test = set(load_image_set(phantom_32, split="test").paths)
    renders = [call[1:] for call in calls if call[0] == "render"]
    listed = ["loss.lambda_fm=0,model.ngf=4", "loss.lambda_fm=0,model.ngf=8"]
    listed += ["loss.lambda_fm=10,model.ngf=4", "loss.lambda_fm=10,model.ngf=8"]
    assert renders == [("val", variant) for variant in listed] + [("test", result.chosen)]
    references = [call[1] for call in calls if call[0] == "evaluate"]
    # The ranking saw validation crops only; the test crops were measured once, for the chosen variant.
    assert references[:4] == [val] * 4 and references[4] == test and not val & test
    assert json.loads((out / "grid.json").read_text()) == result.model_dump(mode="json")


def test_every_variant_is_trained_with_its_settings(searched):
    out, result, _, _ = searched
    settings = {variant.name: load_config(Path(variant.run) / "config.yaml") for variant in result.variants}
    assert {(c.loss.lambda_fm, c.model.ngf) for c in settings.values()} == {
        (0, 4),
        (0, 8),
        (10, 4),
        (10, 8),
    }
    assert settings["loss.lambda_fm=0,model.ngf=4"].model.ngf == 4
    assert all(config.train.max_steps == 3 for config in settings.values())
    assert {Path(variant.run).parent for variant in result.variants} == {out / "runs"}


def test_a_rerun_reuses_the_runs(searched, phantom_32, monkeypatch):
    out, first, _, options = searched

    def no_training(*args, **kwargs):
        raise AssertionError("a finished variant was trained again")

    monkeypatch.setattr(ablation_module, "train", no_training)
    variants = grid_product(["loss.lambda_fm=0,10", "model.ngf=4,8"])
    assert run_grid(phantom_32, out, variants, overrides=BASE, **options) == first


def test_a_variants_file_names_its_variants(tmp_path):
    path = tmp_path / "variants.yaml"
    path.write_text(
        "base: {}\nas-is:\nlight-fm: {loss.lambda_fm: 1.5}\n"
        "no-l1:\n  loss.lambda_l1: 0\n  model.upsample: transposed\n"
    )
    variants = read_variants(path)
    assert variants == {
        "base": (),
        "as-is": (),
        "light-fm": ("loss.lambda_fm=1.5",),
        "no-l1": ("loss.lambda_l1=0", 'model.upsample="transposed"'),
    }
    assert load_config(None, list(variants["no-l1"])).model.upsample == "transposed"


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (["loss.lambda_fm"], "must look like section.key=A,B"),
        (["loss.lambda_fm=0,"], "must look like section.key=A,B"),
        (["loss.lambda_fm=0,10", "loss.lambda_fm=1"], "names loss.lambda_fm twice"),
        (["loss.lambda_fm=0,0"], "lists a value twice"),
    ],
)
def test_bad_grid_options_say_what_to_give(grid, message):
    with pytest.raises(UserError, match=message):
        grid_product(grid)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- loss.lambda_fm=0\n", "must map each variant's name to its settings"),
        ("a: 3\n", "variant 'a' must map section.key to a value"),
        ("a: [\n", "is not valid YAML"),
    ],
)
def test_bad_variants_files_say_what_to_give(tmp_path, text, message):
    path = tmp_path / "variants.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_variants(path)


def test_variants_are_checked_before_anything_is_trained(tmp_path):
    with pytest.raises(UserError, match="not both"):
        grid_variants(["loss.lambda_fm=0,1"], tmp_path / "v.yaml")
    with pytest.raises(UserError, match="give the variants"):
        grid_variants([], None)
    with pytest.raises(UserError, match="does not exist"):
        grid_variants([], tmp_path / "v.yaml")
    with pytest.raises(UserError, match="two variants or more"):
        run_grid(tmp_path, tmp_path, grid_product(["loss.lambda_fm=0"]))
    with pytest.raises(UserError, match=r"(?s)variant loss\.lambda_fmm=0: .*lambda_fmm: is not a known key"):
        run_grid(tmp_path, tmp_path, grid_product(["loss.lambda_fmm=0,1"]))
    with pytest.raises(UserError, match="must be a folder name"):
        run_grid(tmp_path, tmp_path, {"a/b": ("loss.lambda_fm=0",), "c": ("loss.lambda_fm=1",)})


def test_the_command_prints_one_error_line_for_a_bad_grid(monkeypatch, capsys, tmp_path):
    command = ["eval", "grid", "--data", tmp_path, "--out", tmp_path / "grid", "--grid", "lambda_fm=0,10"]
    code, _, err = run_cli(monkeypatch, capsys, *command)
    assert code == 1 and "variant lambda_fm=0" in err and "Traceback" not in err


def test_the_command_resumes_the_search_and_prints_json_last(searched, phantom_32, monkeypatch, capsys):
    out, result, _, _ = searched

    def no_training(*args, **kwargs):
        raise AssertionError("a finished variant was trained again")

    monkeypatch.setattr(ablation_module, "train", no_training)
    monkeypatch.setattr(fid_module, "inception_network", tiny_network)
    grid = ["--grid", "loss.lambda_fm=0,10", "--grid", "model.ngf=4,8"]
    settings = [item for override in BASE for item in ("--set", override)]
    options = ["--cache", out / "cache", "--workers", 0, "--trials", 3, "--no-progress", "--json"]
    command = ["eval", "grid", "--data", phantom_32, "--out", out, *grid, *settings, *options]
    code, stdout, _ = run_cli(monkeypatch, capsys, *command)
    assert code == 0 and f"chosen: {result.chosen}; on the {result.n_test} test crops" in stdout
    assert json.loads(stdout.strip().splitlines()[-1]) == result.model_dump(mode="json")
