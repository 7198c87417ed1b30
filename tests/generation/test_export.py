"""Export: the ONNX and TorchScript files compute what the PyTorch generator does, at any batch size."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from dermgan.cli import main
from dermgan.errors import UserError
from dermgan.generation import export
from dermgan.generation.export import export_generator
from dermgan.generation.maps import MapSpec
from dermgan.generation.synthesize import Synthesizer
from release_helpers import save_release


@pytest.fixture(scope="module")
def synthesizer(tiny_run: Path) -> Synthesizer:
    return Synthesizer(tiny_run)


def _maps_and_images(synthesizer: Synthesizer, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Real maps of the generator's conditions, boxes at different places, and PyTorch's images of them."""
    size, conditions = synthesizer.size, synthesizer.codebook.conditions
    specs = [
        MapSpec(
            condition=conditions[-1 - index % len(conditions)],
            skin_type=str(6 - index % 6),
            boxes=[(index, 2 * index, index + size / 2, 2 * index + size / 3)],
            size=size,
        )
        for index in range(batch)
    ]
    maps = synthesizer.maps(specs)
    with torch.no_grad():
        return maps, synthesizer.generator(maps)


def test_onnx_export_matches_pytorch_at_its_batch_and_another(synthesizer, tiny_run: Path, tmp_path: Path):
    out = tmp_path / "generator.onnx"
    report = export_generator(tiny_run, "onnx", out, batch_size=2)

    assert report.max_abs_diff <= 1e-4 and report.batch_sizes_checked == [2, 3]
    assert report.input_shape == [2, 3, 32, 32] and report.output_shape == [2, 3, 32, 32]
    assert json.loads((tmp_path / "export.json").read_text()) == report.model_dump(mode="json")
    assert report.path == str(out) and report.generator_sha256 == synthesizer.sha256
    operations = {node.op_type for node in onnx.load(out).graph.node}
    assert operations.isdisjoint({"Resize", "Slice", "Add"}), "resize-convs should be folded into constants"
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert isinstance(session.get_inputs()[0].shape[0], str), "the batch axis should be dynamic"
    for batch in (2, 1, 5):
        maps, images = _maps_and_images(synthesizer, batch)
        (exported,) = session.run(None, {session.get_inputs()[0].name: maps.numpy()})
        assert exported.shape == (batch, 3, 32, 32)
        np.testing.assert_allclose(exported, images.numpy(), atol=1e-4, rtol=0)
    assert np.abs(exported).max() <= 1.0
    assert len({image.tobytes() for image in exported}) == 5, "each map should give its own image"


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_from_the_command_line(monkeypatch, capsys, synthesizer, tiny_run, tmp_path):
    out = tmp_path / "generator.pt"
    argv = ["dermgan", "export", "--model", str(tiny_run), "--format", "torchscript", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert not exit_info.value.code
    printed = " ".join(capsys.readouterr().out.split())
    assert str(out) in printed and "at batch 1, 2" in printed

    report = json.loads((tmp_path / "export.json").read_text())
    assert report["format"] == "torchscript" and report["input_shape"] == [1, 3, 32, 32]
    assert 0 <= report["max_abs_diff"] <= 1e-4
    loaded = torch.jit.load(str(out))
    for batch in (1, 4):
        maps, images = _maps_and_images(synthesizer, batch)
        torch.testing.assert_close(loaded(maps), images, atol=1e-4, rtol=0)


def test_an_export_that_differs_from_pytorch_is_refused_and_not_kept(monkeypatch, tiny_run, tmp_path):
    load_torchscript = export.LOADERS["torchscript"]

    def load_off_by_a_thousandth(path: Path, names: list[str]) -> export.Runner:
        run = load_torchscript(path, names)
        return lambda inputs: run(inputs) + 1e-3

    monkeypatch.setitem(export.LOADERS, "torchscript", load_off_by_a_thousandth)
    out = tmp_path / "generator.pt"

    with pytest.raises(UserError, match=r"differs from the PyTorch generator by up to 0\.001"):
        export_generator(tiny_run, "torchscript", out)
    assert list(tmp_path.iterdir()) == []


def test_bad_model_path_format_and_missing_onnx_are_clear_errors(monkeypatch, tiny_run, tmp_path):
    with pytest.raises(UserError, match="nowhere does not exist: give a run directory"):
        export_generator(tmp_path / "nowhere", "onnx", tmp_path / "g.onnx")
    with pytest.raises(UserError, match=r"has no generator\.json"):
        export_generator(tmp_path, "onnx", tmp_path / "g.onnx")
    with pytest.raises(UserError, match="format must be one of onnx, torchscript, not 'tflite'"):
        export_generator(tiny_run, "tflite", tmp_path / "g.tflite")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(UserError, match=r"needs onnxruntime: pip install 'dermgan\[export\]'"):
        export_generator(tiny_run, "onnx", tmp_path / "g.onnx")


def test_a_generator_with_decoder_noise_exports_its_noise_as_inputs(tmp_path: Path):
    release = save_release(tmp_path / "noisy", "model.noise_resolutions=[4,8]")
    out = tmp_path / "generator.onnx"
    report = export_generator(release, "onnx", out, batch_size=2)

    assert report.max_abs_diff <= 1e-4
    assert report.noise_inputs == {"noise_4": [2, 1, 4, 4], "noise_8": [2, 1, 8, 8]}
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [entry.name for entry in session.get_inputs()] == ["map", "noise_4", "noise_8"]
    synthesizer = Synthesizer(release)
    maps = torch.zeros(3, *report.input_shape[1:])
    feeds = [torch.randn(3, 1, side, side, generator=torch.Generator().manual_seed(side)) for side in (4, 8)]
    (exported,) = session.run(
        None, {"map": maps.numpy(), "noise_4": feeds[0].numpy(), "noise_8": feeds[1].numpy()}
    )
    with torch.no_grad():
        expected = synthesizer.generator(maps, feeds)
    assert np.abs(exported - expected.numpy()).max() <= 1e-4
    (other,) = session.run(
        None, {"map": maps.numpy(), "noise_4": -feeds[0].numpy(), "noise_8": feeds[1].numpy()}
    )
    assert np.abs(exported - other).max() > 1e-3, "the noise inputs should change the image"
