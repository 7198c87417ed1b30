"""A released generator as one ONNX or TorchScript file, checked against PyTorch before it is kept.

The exported graph is the deterministic generator (running batch-norm statistics, no dropout): a
B x C x S x S map in [-1, 1] in, a B x 3 x S x S image in [-1, 1] out, with a dynamic batch axis.
A generator with decoder noise (model.noise_resolutions) takes one more input per noise resolution r,
`noise_<r>` of shape B x 1 x r x r drawn from N(0, 1), so the caller owns the randomness.
Eager PyTorch picks each resize-conv's form (upsample + conv, or the folded transposed conv) by its input
size, so a trace records the choice made at the example's batch, and torch.export narrows a dynamic batch
to the sizes where that choice holds. The export takes the folded form everywhere instead: one graph for
every batch size, the fold computed once into constant weights, the same numbers as eager PyTorch up to
rounding.
"""

from __future__ import annotations

import io
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

Runner = Callable[[tuple[torch.Tensor, ...]], torch.Tensor]
"""Runs an exported file on (map, noise_<r>...) -> image."""


class _ExplicitNoise(torch.nn.Module):
    """The generator with its noise as inputs: an exported graph holds no random draws."""

    def __init__(self, generator: torch.nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, semantic_map: torch.Tensor, *noise: torch.Tensor) -> torch.Tensor:
        return self.generator(semantic_map, list(noise))


class ExportReport(BaseModel):
    format: ExportFormat
    path: str
    input_shape: list[int]
    """At the export's batch size; the batch axis is dynamic."""
    noise_inputs: dict[str, list[int]] = {}
    """Name -> shape at the export's batch size of each noise input (none without decoder noise)."""
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
    inputs = {batch: _check_inputs(synthesizer, batch) for batch in (batch_size, batch_size + 1)}
    names = [INPUT_NAME, *(f"noise_{side}" for side in generator.noise_resolutions)]
    graph = _ExplicitNoise(generator).eval()
    with atomic_path(out) as temporary:
        # torch.export specialises a batch of 1 to a constant: trace the larger of the two batches.
        with _folded_resize_convs(generator), _quiet_exporters():
            EXPORTERS[format](graph, inputs[batch_size + 1], names, temporary)
            run_exported = LOADERS[format](temporary, names)
        max_abs_diff = max(_max_abs_diff(run_exported, graph, batch) for batch in inputs.values())
        if not max_abs_diff <= TOLERANCE:  # NaN included
            raise UserError(
                f"the {format} export differs from the PyTorch generator by up to {max_abs_diff:.3g} "
                f"(tolerance {TOLERANCE:g}); nothing was written to {out}"
            )
    report = ExportReport(
        format=format,
        path=str(out),
        input_shape=list(inputs[batch_size][0].shape),
        noise_inputs={name: list(t.shape) for name, t in zip(names[1:], inputs[batch_size][1:], strict=True)},
        output_shape=[batch_size, 3, synthesizer.size, synthesizer.size],
        map_encoding=synthesizer.info.config.data.encoding,
        batch_sizes_checked=sorted(inputs),
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


def _check_inputs(synthesizer: Synthesizer, batch: int) -> tuple[torch.Tensor, ...]:
    """`batch` drawn maps, each a centred box with the next condition and Fitzpatrick type in turn, and
    their noise (seeded by position) when the generator has some."""
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
    seeds = [torch.Generator().manual_seed(index) for index in range(batch)]
    return (synthesizer.maps(specs), *synthesizer.generator.make_noise(seeds))


@torch.no_grad()
def _max_abs_diff(run_exported: Runner, graph: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> float:
    return (run_exported(inputs) - graph(*inputs)).abs().max().item()


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


def _export_onnx(
    graph: torch.nn.Module, example: tuple[torch.Tensor, ...], names: list[str], path: Path
) -> None:
    import onnxscript.optimizer

    program = torch.onnx.export(
        graph,
        example,
        dynamo=True,
        optimize=False,
        opset_version=OPSET,
        input_names=names,
        output_names=[OUTPUT_NAME],
        dynamic_shapes=_batch_axes(len(example), torch.export.Dim("batch")),
        verbose=False,
    )
    # The default size limits of constant folding leave the larger weights' folds to run at every call.
    largest = 2 * max(parameter.numel() for parameter in graph.parameters())
    program.model = onnxscript.optimizer.optimize(
        program.model, input_size_limit=largest, output_size_limit=largest
    )
    program.save(path, external_data=False)


def _batch_axes(inputs: int, batch: torch.export.Dim) -> tuple:
    """torch.export's dynamic_shapes for forward(map, *noise): the varargs form one tuple, if any."""
    noise = tuple({0: batch} for _ in range(inputs - 1))
    return ({0: batch}, noise) if noise else ({0: batch},)


def _load_onnx(path: Path, names: list[str]) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        feed = {name: tensor.numpy() for name, tensor in zip(names, inputs, strict=True)}
        return torch.from_numpy(session.run([OUTPUT_NAME], feed)[0])

    return run


def _export_torchscript(
    graph: torch.nn.Module, example: tuple[torch.Tensor, ...], names: list[str], path: Path
) -> None:
    traced = torch.jit.trace(graph, example, check_trace=False)
    buffer = io.BytesIO()  # written by Python, so a full disk is an OSError, not an abort inside torch
    torch.jit.save(torch.jit.freeze(traced), buffer)
    path.write_bytes(buffer.getbuffer())


def _load_torchscript(path: Path, names: list[str]) -> Runner:
    module = torch.jit.load(str(path), map_location="cpu")
    return lambda inputs: module(*inputs)


EXPORTERS: dict[str, Callable[[torch.nn.Module, tuple[torch.Tensor, ...], list[str], Path], None]] = {
    "onnx": _export_onnx,
    "torchscript": _export_torchscript,
}
LOADERS: dict[str, Callable[[Path, list[str]], Runner]] = {
    "onnx": _load_onnx,
    "torchscript": _load_torchscript,
}
