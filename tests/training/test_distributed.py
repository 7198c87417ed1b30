"""Data-parallel training under torchrun (2 CPU processes, gloo) learns exactly what one process learns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import TINY
from dermgan.training.trainer import train

# Instance norm and no dropout: per-rank batch statistics or dropout masks would legitimately differ.
# Transposed upsampling: with resize-conv, instance norm on the 2x2 map upsampled from the 1x1 bottleneck
# cancels the centre tap of that conv, whose gradient is then pure rounding noise that Adam amplifies.
# Adam's epsilon at 1e-5: with the default 1e-8, a weight whose gradient is about 1e-8 (a sum of terms of
# 1e-3 that nearly cancel) moves by lr x g / (|g| + eps), and the last bits of g, which depend on how the
# batch is split and on the CPU's kernels, move it by a good part of lr. Broken data parallelism (ranks
# that do not average, or see the wrong samples) still moves large-gradient weights by about lr.
SAME_ON_ANY_SPLIT = (
    *TINY,
    "model.norm=instance",
    "model.dropout=0",
    "model.upsample=transposed",
    "train.adam_eps=1e-5",
    "train.max_steps=4",
    "train.seed=5",
)


# Spectral norm's power iteration reads only the weights, so every rank keeps the same vectors.
@pytest.mark.parametrize("switches", [(), ("model.spectral_norm_d=true", "train.lr_d=4e-4")])
def test_two_ranks_end_with_the_weights_of_one_process_with_the_same_global_batch(
    phantom_32: Path, tmp_path: Path, switches: tuple[str, ...]
):
    overrides = (*SAME_ON_ANY_SPLIT, *switches)
    train(phantom_32, tmp_path / "single", overrides=overrides, progress=False)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "dermgan",
        "train",
        "--data",
        str(phantom_32),
        "--out",
        str(tmp_path / "ddp"),
        "--no-progress",
        *[argument for override in overrides for argument in ("--set", override)],
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]

    single = load_file(tmp_path / "single" / "generator.safetensors")
    parallel = load_file(tmp_path / "ddp" / "generator.safetensors")
    for name, weight in single.items():
        torch.testing.assert_close(parallel[name], weight, rtol=1e-4, atol=1e-5, msg=name)
