"""Two time-scale learning rates: each optimiser decays from its own base rate, train.lr or train.lr_d."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import TINY
from dermgan.training.checkpoint import latest_checkpoint, load_checkpoint
from dermgan.training.config import load_config
from dermgan.training.trainer import lr_factor, set_learning_rates, train

# Decay over the second half of 4 steps: the lr of step 4 (set from step index 3) is half the base.
SCHEDULE = ("train.max_steps=4", "train.decay_start=0.5", "train.lr=1e-3")


def test_after_each_step_the_optimisers_ran_at_their_own_base_times_the_schedule(
    phantom_32: Path, tmp_path: Path
):
    overrides = (*TINY, *SCHEDULE, "train.lr_d=4e-3", "train.checkpoint_every=4")
    train(phantom_32, tmp_path / "run", overrides=overrides, progress=False)
    factors = [lr_factor(step, load_config(None, overrides)) for step in range(4)]
    assert factors == [1.0, 1.0, 1.0, 0.5]
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["lr"] for line in lines] == pytest.approx([1e-3 * f for f in factors])
    assert [line["lr_d"] for line in lines] == pytest.approx([4e-3 * f for f in factors])
    state = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert state["optimizer_g"]["param_groups"][0]["lr"] == pytest.approx(0.5e-3)
    assert state["optimizer_d"]["param_groups"][0]["lr"] == pytest.approx(2e-3)


@pytest.mark.parametrize(("lr_d", "expected_base"), [("null", 1e-3), ("3e-4", 3e-4)])
def test_lr_d_null_means_train_lr_so_older_configs_train_as_before(lr_d: str, expected_base: float):
    config = load_config(None, [*SCHEDULE, f"train.lr_d={lr_d}"])
    optimizer_g, optimizer_d = (torch.optim.Adam([torch.zeros(1, requires_grad=True)]) for _ in range(2))
    set_learning_rates(optimizer_g, optimizer_d, 3, config)
    assert optimizer_g.param_groups[0]["lr"] == pytest.approx(0.5e-3)
    assert optimizer_d.param_groups[0]["lr"] == pytest.approx(0.5 * expected_base)
