"""A released generator as one ONNX or TorchScript file, checked against PyTorch before it is kept.

The exported graph is the deterministic generator (running batch-norm statistics, no dropout): a
B x C x S x S map in [-1, 1] in, a B x 3 x S x S image in [-1, 1] out, with a dynamic batch axis.
Eager PyTorch picks each resize-conv's form (upsample + conv, or the folded transposed conv) by its input
size, so a trace records the choice made at the example's batch, and torch.export narrows a dynamic batch
to the sizes where that choice holds. The export takes the folded form everywhere instead: one graph for
every batch size, the fold computed once into constant weights, the same numbers as eager PyTorch up to
rounding.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, get_args

import torch
from pydantic import BaseModel

from dermgan.conditions import FITZPATRICK_TYPES
from dermgan.errors import UserError
from dermgan.files import atomic_path, write_json
from dermgan.generation.maps import MapSpec
from dermgan.generation.synthesize import Synthesizer
from dermgan.models.resize_conv import ResizeConv2d

ExportFormat = Literal["onnx", "torchscript"]
TOLERANCE = 1e-4
"""Largest absolute difference from the PyTorch output (images span [-1, 1]) an export may show."""
OPSET = 18
REPORT = "export.json"
INPUT_NAME, OUTPUT_NAME = "map", "image"

Runner = Callable[[torch.Tensor], torch.Tensor]


class ExportReport(BaseModel):
    format: ExportFormat
    path: str
    input_shape: list[int]
    """At the export's batch size; the batch axis is dynamic."""
    output_shape: list[int]
    map_encoding: str
    batch_sizes_checked: list[int]
    max_abs_diff: float
    """Over every batch size checked, against the eager PyTorch generator."""
    tolerance: float = TOLERANCE
    generator_sha256: str
    opset: int | None = None


def export_generator(
    model: str | os.PathLike[str], format: ExportFormat, out: str | os.PathLike[str], batch_size: int = 1
) -> ExportReport:
    """Writes the generator of `model` (a run directory or its generator.safetensors) to `out` only once
    the file, loaded back, matches PyTorch on real maps at `batch_size` and one more; export.json beside."""
    if format not in get_args(ExportFormat):
        raise UserError(f"format must be one of {', '.join(get_args(ExportFormat))}, not {format!r}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {batch_size}")
    if not Path(model).exists():
        raise UserError(f"model {model} does not exist: give a run directory or its generator.safetensors")
    out = Path(out)
    if out.is_dir():
        raise UserError(f"--out {out} is a folder: give the path of the file to write")
    if format == "onnx":
        _require_onnx()
    synthesizer = Synthesizer(model)
    generator = synthesizer.generator.eval()
    maps = {batch: _check_maps(synthesizer, batch) for batch in (batch_size, batch_size + 1)}
    with atomic_path(out) as temporary:
        # torch.export specialises a batch of 1 to a constant: trace the larger of the two batches.
        with _folded_resize_convs(generator), _quiet_exporters():
            EXPORTERS[format](generator, maps[batch_size + 1], temporary)
            run_exported = LOADERS[format](temporary)
        max_abs_diff = max(_max_abs_diff(run_exported, generator, batch) for batch in maps.values())
        if not max_abs_diff <= TOLERANCE:  # NaN included
            raise UserError(
                f"the {format} export differs from the PyTorch generator by up to {max_abs_diff:.3g} "
                f"(tolerance {TOLERANCE:g}); nothing was written to {out}"
            )
    report = ExportReport(
        format=format,
        path=str(out),
        input_shape=list(maps[batch_size].shape),
        output_shape=[batch_size, 3, synthesizer.size, synthesizer.size],
        map_encoding=synthesizer.info.config.data.encoding,
        batch_sizes_checked=sorted(maps),
        max_abs_diff=max_abs_diff,
        generator_sha256=synthesizer.sha256,
        opset=OPSET if format == "onnx" else None,
    )
    write_json(out.parent / REPORT, report.model_dump(mode="json"))
    return report


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise UserError(f"ONNX export needs {error.name}: pip install 'dermgan[export]'") from None


def _check_maps(synthesizer: Synthesizer, batch: int) -> torch.Tensor:
    """`batch` drawn maps, each a centred box with the next condition and Fitzpatrick type in turn."""
    size, conditions = synthesizer.size, synthesizer.codebook.conditions
    box = (size / 4, size / 4, 3 * size / 4, 3 * size / 4)
    specs = [
        MapSpec(
            condition=conditions[index % len(conditions)],
            skin_type=str(FITZPATRICK_TYPES[index % len(FITZPATRICK_TYPES)]),
            boxes=[box],
            size=size,
        )
        for index in range(batch)
    ]
    return synthesizer.maps(specs)


@torch.no_grad()
def _max_abs_diff(run_exported: Runner, generator: torch.nn.Module, maps: torch.Tensor) -> float:
    return (run_exported(maps) - generator(maps)).abs().max().item()


@contextmanager
def _folded_resize_convs(generator: torch.nn.Module) -> Iterator[None]:
    layers = [module for module in generator.modules() if isinstance(module, ResizeConv2d)]
    for layer in layers:
        layer.fold_from_pixels = 0
    try:
        yield
    finally:
        for layer in layers:
            del layer.fold_from_pixels


@contextmanager
def _quiet_exporters() -> Iterator[None]:
    """Hides the exporters' notes on what a trace cannot see (the fixed branches above) and TorchScript's
    deprecation: the parity check is the proof that matters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.\w+` is deprecated")
        yield


def _export_onnx(generator: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    import onnxscript.optimizer

    program = torch.onnx.export(
        generator,
        (example,),
        dynamo=True,
        optimize=False,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        verbose=False,
    )
    # The default size limits of constant folding leave the larger weights' folds to run at every call.
    largest = 2 * max(parameter.numel() for parameter in generator.parameters())
    program.model = onnxscript.optimizer.optimize(
        program.model, input_size_limit=largest, output_size_limit=largest
    )
    program.save(path, external_data=False)


def _load_onnx(path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda maps: torch.from_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: maps.numpy()})[0])


def _export_torchscript(generator: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    traced = torch.jit.trace(generator, example, check_trace=False)
    torch.jit.save(torch.jit.freeze(traced), str(path))


def _load_torchscript(path: Path) -> Runner:
    return torch.jit.load(str(path), map_location="cpu")


EXPORTERS: dict[str, Callable[[torch.nn.Module, torch.Tensor, Path], None]] = {
    "onnx": _export_onnx,
    "torchscript": _export_torchscript,
}
LOADERS: dict[str, Callable[[Path], Runner]] = {"onnx": _load_onnx, "torchscript": _load_torchscript}
