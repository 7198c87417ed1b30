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
