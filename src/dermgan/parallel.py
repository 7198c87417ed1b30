"""Map a function over items in worker processes with a progress bar; serial when that is faster."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from tqdm import tqdm

In = TypeVar("In")
Out = TypeVar("Out")

SERIAL_BELOW = 16


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def parallel_map(
    function: Callable[[In], Out],
    items: Sequence[In],
    *,
    workers: int | None = None,
    desc: str = "",
    progress: bool = True,
) -> Iterator[Out]:
    """Yields function(item) in order; `function` must be a module-level (picklable) callable."""
    workers = default_workers() if workers is None else workers
    bar = tqdm(total=len(items), desc=desc, unit="img", disable=not progress, leave=False)
    with bar:
        results: Iterable[Out]
        if workers <= 1 or len(items) < SERIAL_BELOW:
            results = map(function, items)
            for result in results:
                bar.update()
                yield result
            return
        chunksize = max(1, min(64, len(items) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(function, items, chunksize=chunksize):
                bar.update()
                yield result
