"""Checkpoints: all a run needs to continue exactly, written atomically, loaded without unpickling code.

`checkpoints/step-XXXXXXX.pt` holds the networks, optimisers, EMA, step and RNG states. Loading uses
`torch.load(weights_only=True)`, so a file from elsewhere can hold tensors, never code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from dermgan.errors import UserError
from dermgan.files import atomic_path

FORMAT = "dermgan-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step-(\d{7,})\.pt$")


def checkpoint_path(run_dir: str | os.PathLike[str], step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step-{step:07d}.pt"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in folder.glob("step-*.pt") if (m := _NAME.match(p.name))]
    return sorted(found)


def save_checkpoint(run_dir: str | os.PathLike[str], step: int, state: dict[str, Any], keep: int) -> Path:
    """Writes the checkpoint of `step` (temporary file, then rename) and prunes all but the `keep` newest."""
    path = checkpoint_path(run_dir, step)
    with atomic_path(path) as temporary:
        torch.save({"format": FORMAT, "version": VERSION, "step": step, **state}, temporary)
    for _, old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state saved in `path`; UserError for a corrupt, foreign or code-carrying file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"checkpoint {path} does not exist") from None
    except Exception as error:  # torch raises many types for broken or unsafe files
        reason = str(error).splitlines()[0][:200]
        raise UserError(
            f"checkpoint {path} cannot be loaded safely: it is corrupt or not a dermgan "
            f"checkpoint ({type(error).__name__}: {reason})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not a dermgan checkpoint")
    if state.get("version") != VERSION:
        raise UserError(f"{path} has checkpoint version {state.get('version')}; this dermgan reads {VERSION}")
    return state


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """The global RNG states a checkpoint needs (dropout draws), CPU and, where there is one, CUDA."""
    state = {"rng_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and device.type == "cuda":
        state["rng_cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["rng_cpu"])
    if "rng_cuda" in state and torch.cuda.is_available() and device.type == "cuda":
        torch.cuda.set_rng_state(state["rng_cuda"], device)


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None
