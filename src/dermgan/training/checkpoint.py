"""Checkpoints: all a run needs to continue exactly, written atomically, loaded without unpickling code.

`checkpoints/step-XXXXXXX.pt` holds the networks, optimisers, EMA, step and RNG states. Loading uses
`torch.load(weights_only=True)`, so a file from elsewhere can hold tensors, never code. A temporary file
left by a killed write (`checkpoints/.step-XXXXXXX.pt.*.tmp`) is removed by the next checkpoint's write.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import IO, Any

import torch

from dermgan.errors import UserError
from dermgan.files import atomic_path

FORMAT = "dermgan-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step-(\d{7,})\.pt$")
_LEFTOVERS = ".step-*.pt.*.tmp"
REQUIRED_KEYS = ("step", "rng_cpu")
"""Every checkpoint has these besides its networks' states (which the run that reads it checks)."""
_UNREADABLE = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile)
"""What torch.load raises for a truncated, foreign or code-carrying file (and an OSError naming no file,
for a zip archive cut short)."""


def checkpoint_path(run_dir: str | os.PathLike[str], step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step-{step:07d}.pt"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in folder.glob("step-*.pt") if (m := _NAME.match(p.name))]
    return sorted(found)


class _FirstFault:
    """A file handle for torch.save that keeps the first OSError (full disk) to raise after the save:
    torch would turn it into an opaque RuntimeError that names neither the file nor the cause."""

    def __init__(self, handle: IO[bytes]):
        self.handle, self.error = handle, None

    def write(self, data) -> int:
        if self.error is None:
            try:
                return self.handle.write(data)
            except OSError as error:
                self.error = error
        return memoryview(data).nbytes

    def flush(self) -> None:
        if self.error is None:
            self.handle.flush()


def save_state(state: dict[str, Any], path: Path) -> None:
    """torch.save into `path`, whose OSError (ENOSPC, EFBIG, EIO) comes out as itself."""
    with open(path, "wb") as handle:
        writer = _FirstFault(handle)
        torch.save(state, writer)
        if writer.error is not None:
            raise writer.error


def remove_leftovers(run_dir: str | os.PathLike[str]) -> None:
    """Deletes temporary checkpoint files of a write that was killed (SIGKILL, power cut)."""
    for leftover in (Path(run_dir) / "checkpoints").glob(_LEFTOVERS):
        leftover.unlink(missing_ok=True)


def save_checkpoint(run_dir: str | os.PathLike[str], step: int, state: dict[str, Any], keep: int) -> Path:
    """Writes the checkpoint of `step` (temporary file, then rename) and prunes all but the `keep` newest."""
    path = checkpoint_path(run_dir, step)
    remove_leftovers(run_dir)
    with atomic_path(path) as temporary:
        save_state({"format": FORMAT, "version": VERSION, "step": step, **state}, temporary)
    for _, old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def _reason(error: BaseException) -> str:
    if isinstance(error, pickle.UnpicklingError):
        return "not a weights-only PyTorch file; code in a file is never run"
    first = str(error).strip().split(". ")[0].splitlines()
    return f"{type(error).__name__}: {first[0][:160]}" if first else type(error).__name__


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state saved in `path`; UserError for a corrupt, foreign, incomplete or code-carrying file."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise UserError(f"checkpoint {path} is empty (0 bytes): delete it to resume from the one before")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"checkpoint {path} does not exist") from None
    except (*_UNREADABLE, OSError) as error:
        if isinstance(error, OSError) and error.filename is not None:
            raise  # the file system's fault (permission, I/O error), which names the file
        raise UserError(
            f"checkpoint {path} cannot be loaded safely: it is corrupt or not a dermgan "
            f"checkpoint ({_reason(error)}); delete it to resume from the one before"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not a dermgan checkpoint")
    if state.get("version") != VERSION:
        raise UserError(f"{path} has checkpoint version {state.get('version')}; this dermgan reads {VERSION}")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise UserError(
            f"checkpoint {path} lacks {', '.join(missing)}: it is incomplete; delete it to resume from "
            "the one before"
        )
    step, rng = state["step"], state["rng_cpu"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise UserError(f"checkpoint {path} has step {step!r}, not a whole number of steps")
    if not isinstance(rng, torch.Tensor) or rng.dtype != torch.uint8 or rng.dim() != 1:
        raise UserError(f"checkpoint {path} has an rng_cpu that is not a random generator's state")
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
