"""A deterministic stream of training samples: position p in the stream -> (crop, flips).

The crop at position p is a seeded permutation of epoch p // n (EpochOrder, which the classifier shares),
and its flips are seeded by p, so the stream is the same whatever the number of loader workers, whether
the run was resumed at step s (it starts at position s x global batch), and however a global batch is
split across data-parallel ranks.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler

from dermgan.data.dataset import Pair, PreparedPairs, random_flip
from dermgan.data.splits import stable_seed


class EpochOrder:
    """Stream position -> item index: epoch p // n is a seeded permutation of the n items or, with
    per-item `weights`, n seeded draws with replacement (class-balanced sampling)."""

    def __init__(self, n: int, seed: int, weights: torch.Tensor | None = None):
        self.n, self.seed, self.weights = n, seed, weights
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def __call__(self, position: int) -> int:
        epoch, offset = divmod(position, self.n)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(stable_seed(self.seed, "epoch", epoch) % 2**63)
            if self.weights is None:
                order = torch.randperm(self.n, generator=generator)
            else:
                order = torch.multinomial(self.weights, self.n, replacement=True, generator=generator)
            self._epoch, self._order = epoch, order
        return int(self._order[offset])


class SampleStream(Dataset):
    """Indexable by stream position; wraps un-flipped pairs and applies the position's flips."""

    def __init__(self, pairs: PreparedPairs, seed: int, flip: bool):
        self.pairs, self.seed, self.flip = pairs, seed, flip
        self._index = EpochOrder(len(pairs), seed)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, position: int) -> Pair:
        pair = self.pairs[self._index(position)]
        if not self.flip:
            return pair
        generator = torch.Generator().manual_seed(stable_seed(self.seed, "flip", position) % 2**63)
        return random_flip(pair, generator)


class StepBatches(Sampler[list[int]]):
    """The stream positions of this rank's share of each global batch, from `start_step` to `max_steps`."""

    def __init__(
        self, start_step: int, max_steps: int, global_batch: int, rank: int = 0, world_size: int = 1
    ):
        if global_batch % world_size:
            raise ValueError(f"batch size {global_batch} is not divisible by {world_size} processes")
        self.start_step, self.max_steps = start_step, max_steps
        self.global_batch, self.local_batch, self.rank = global_batch, global_batch // world_size, rank

    def __len__(self) -> int:
        return max(0, self.max_steps - self.start_step)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.max_steps):
            first = step * self.global_batch + self.rank * self.local_batch
            yield list(range(first, first + self.local_batch))
