"""Finding a dataset's image files under SRC, wherever its archive unpacked them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def file_key(name: str) -> str:
    """The file name alone: how images are joined across files that spell their folders differently."""
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def first_existing(candidates: Iterable[Path]) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)


class FileSearch:
    """Walks folders for files, never into the import's own output folder, never to hidden files
    (macOS archives carry `._NAME` shadows of every image)."""

    def __init__(self, exclude: Path) -> None:
        self._exclude = os.path.realpath(exclude)
        self._by_name: dict[Path, dict[str, Path]] = {}

    def files(self, root: Path) -> Iterator[Path]:
        """Every regular file under root (no FIFO, device or dangling link), in sorted order so that results
        never depend on the disk."""
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(
                name
                for name in subfolders
                if not name.startswith(".") and os.path.realpath(os.path.join(folder, name)) != self._exclude
            )
            for name in sorted(names):
                if not name.startswith(".") and os.path.isfile(os.path.join(folder, name)):
                    yield Path(folder) / name

    def by_name(self, root: Path) -> dict[str, Path]:
        """Files under root by file name; where a name repeats, the first in sorted order wins."""
        if root not in self._by_name:
            index: dict[str, Path] = {}
            for path in self.files(root):
                index.setdefault(path.name, path)
            self._by_name[root] = index
        return self._by_name[root]

    def find(self, name: str, root: Path, candidates: Iterable[Path] = ()) -> Path | None:
        """The first candidate that exists, else a file called like `name` anywhere under root."""
        return first_existing(candidates) or self.by_name(root).get(file_key(name))
