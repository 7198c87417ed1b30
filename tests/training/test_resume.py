"""A run killed with SIGKILL at a random step and resumed ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import TINY
from dermgan.errors import UserError
from dermgan.training.checkpoint import latest_checkpoint, load_checkpoint
from dermgan.training.trainer import train

# Batch norm, and dropout (which the U-Net has from 64 px up): resuming must restore the RNG and every
# running statistic too.
RUN = (
    *TINY,
    "data.size=64",
    "train.max_steps=40",
    "train.checkpoint_every=4",
    "train.keep_checkpoints=2",
    "train.seed=7",
)


def _cli(*arguments: str) -> list[str]:
    sets = [argument for override in RUN for argument in ("--set", override)]
    return [sys.executable, "-m", "dermgan", "train", *arguments, "--no-progress", *sets]


def _logged_steps(run: Path) -> list[int]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    steps = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written right now
            steps.append(json.loads(line)["step"])
    return steps


def _kill_at(command: list[str], run: Path, step: int) -> int:
    """Starts the CLI and SIGKILLs it once `step` is logged; returns the last step it logged."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while max(_logged_steps(run), default=0) < step:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the run did not reach the step to kill at"
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    return max(_logged_steps(run))


def test_sigkill_then_resume_equals_an_uninterrupted_run(phantom_32: Path, tmp_path: Path):
    train(phantom_32, tmp_path / "whole", overrides=RUN, progress=False)

    killed = tmp_path / "killed"
    kill_step = random.randrange(5, 30)
    reached = _kill_at(_cli("--data", str(phantom_32), "--out", str(killed)), killed, kill_step)
    assert reached < 40, "the run finished before it could be killed"
    assert not (killed / "generator.safetensors").exists()
    resumed = subprocess.run(_cli("--resume", str(killed)), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    expected = load_checkpoint(latest_checkpoint(tmp_path / "whole"))
    got = load_checkpoint(latest_checkpoint(killed))
    for network in ("generator", "discriminator"):
        for name, tensor in expected[network].items():
            torch.testing.assert_close(
                got[network][name], tensor, msg=f"{network}.{name}, killed at {reached}"
            )
    assert _logged_steps(killed) == list(range(1, 41))


def test_a_finished_run_is_not_restarted_over(phantom_32: Path, tmp_path: Path):
    train(phantom_32, tmp_path / "run", overrides=(*TINY, "train.max_steps=1"), progress=False)
    with pytest.raises(UserError, match="--resume"):
        train(phantom_32, tmp_path / "run", overrides=(*TINY, "train.max_steps=1"), progress=False)
    with pytest.raises(UserError, match="not a run directory"):
        train(resume=tmp_path / "nothing-here", progress=False)


# Noise drawn from the global RNG, spectral norm's power-iteration vectors and the discriminator's own lr,
# at two discriminator scales of 2 layers (3 would leave the 16 px scale too small for the last convs);
# decay_start=1 keeps the lr the same whatever train.max_steps says.
SWITCHES = (
    *TINY,
    "model.noise_resolutions=[4,16]",
    "model.spectral_norm_d=true",
    "model.num_scales_d=2",
    "model.n_layers_d=2",
    "train.lr_d=4e-4",
    "train.decay_start=1.0",
    "train.checkpoint_every=2",
    "train.seed=3",
)


def test_noise_spectral_norm_and_lr_d_resume_exactly(phantom_32: Path, tmp_path: Path):
    train(phantom_32, tmp_path / "whole", overrides=(*SWITCHES, "train.max_steps=4"), progress=False)
    train(phantom_32, tmp_path / "cut", overrides=(*SWITCHES, "train.max_steps=2"), progress=False)
    train(resume=tmp_path / "cut", overrides=["train.max_steps=4"], progress=False)

    expected = load_checkpoint(latest_checkpoint(tmp_path / "whole"))
    got = load_checkpoint(latest_checkpoint(tmp_path / "cut"))
    assert got["step"] == expected["step"] == 4
    assert expected["generator"]["noise.16.scale"].abs().min() > 0, "the noise took no part in training"
    assert any(name.endswith("_u") for name in expected["discriminator"])
    for network in ("generator", "discriminator"):
        assert got[network].keys() == expected[network].keys()
        for name, tensor in expected[network].items():
            torch.testing.assert_close(got[network][name], tensor, msg=f"{network}.{name}")
    assert got["optimizer_d"]["param_groups"][0]["lr"] == 4e-4
