"""What a format reader hands over: the images a dataset lists, before they are placed in OUT."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dermgan.data.importers.locate import FileSearch
from dermgan.data.importers.summary import Skipped
from dermgan.data.manifest import Box


@dataclass
class ListedImage:
    """One image of the dataset: `name` is how its metadata names it (for messages and joins by
    file name), `path` the file found in SRC or None when it is absent."""

    name: str
    path: Path | None
    condition: str
    skin_type: str = ""
    case_id: str = ""
    boxes: tuple[Box, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class DatasetListing:
    """Everything a reader found: the images, the rows it had to drop, and what the user should know."""

    images: list[ListedImage]
    license: str
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadContext:
    """What a reader may use besides SRC: the file search (which skips OUT) and the progress switch."""

    search: FileSearch
    progress: bool = True


Reader = Callable[[Path, ReadContext], DatasetListing]


def kept_columns(row: dict[str, str], columns: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    """The dataset columns worth keeping, renamed where `columns` maps them; absent ones are left out."""
    renames = columns if isinstance(columns, Mapping) else {name: name for name in columns}
    return {new: row[old] for old, new in renames.items() if old in row}
