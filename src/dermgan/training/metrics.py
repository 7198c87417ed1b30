"""Run logs: `metrics.jsonl` (one JSON object per logged step) and TensorBoard events, from rank 0 only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter

from dermgan.errors import about_file


def _logged_step(line: str) -> float:
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


class RunLog:
    """Appends metrics as JSON lines and TensorBoard scalars; a resumed run appends to the same files."""

    def __init__(self, run_dir: str | os.PathLike[str], enabled: bool = True):
        self.enabled = enabled
        self.path = Path(run_dir) / "metrics.jsonl"
        self.board_dir = Path(run_dir) / "tensorboard"
        self.board = SummaryWriter(log_dir=str(self.board_dir)) if enabled else None

    def truncate_after(self, step: int) -> None:
        """Drops lines logged after `step` (a run killed past its last checkpoint redoes those steps),
        and a last line cut short by the kill."""
        if not self.enabled or not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines() if _logged_step(line) <= step]
        self.path.write_text("".join(f"{line}\n" for line in kept))

    def log(self, step: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with about_file(self.path), self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **values}) + "\n")
        with about_file(self.board_dir):
            for name, value in values.items():
                if isinstance(value, (int, float)):
                    self.board.add_scalar(name, value, step)

    def image(self, tag: str, image_hwc, step: int) -> None:
        if self.enabled:
            with about_file(self.board_dir):
                self.board.add_image(tag, image_hwc, step, dataformats="HWC")

    def close(self) -> None:
        if self.board is not None:
            with about_file(self.board_dir):
                self.board.close()
