"""Data parallelism under `torchrun`: the same code path runs as one process or as N ranks.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; without them the run is a single process.
NCCL on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Placement:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start() -> Placement:
    """Joins the process group when launched by torchrun; picks this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return Placement(rank=rank, world_size=world_size, device=device)


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def any_rank(flag: bool, placement: Placement) -> bool:
    """True on every rank when `flag` is true on any rank (e.g. 'a loss is not finite here')."""
    if not placement.distributed:
        return flag
    value = torch.tensor([int(flag)], device=placement.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def sum_over_ranks(value: int, placement: Placement) -> int:
    """The total of an integer over every rank (e.g. images made by each)."""
    if not placement.distributed:
        return value
    total = torch.tensor([value], device=placement.device)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return int(total.item())
