"""Reading a public dataset's metadata CSV, with messages that name the file, line and column."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dermgan.errors import UserError

Parsed = TypeVar("Parsed")

# A required column, or a tuple of names any one of which will do (older copies renamed some columns).
Required = str | tuple[str, ...]


@dataclass
class Table:
    """A CSV's rows as strings, each with the line it starts on."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def column(self, names: Required) -> str:
        """The first of `names` the table has (read_table has already checked one exists)."""
        names = (names,) if isinstance(names, str) else names
        return next(name for name in names if name in self.columns)

    def error(self, line: int, column: str, reason: str) -> UserError:
        return UserError(f"{self.path} line {line}, column {column}: {reason}")

    def parse(self, line: int, row: dict[str, str], column: str, parse: Callable[[str], Parsed]) -> Parsed:
        """parse(cell), with any UserError or ValueError located at this line and column."""
        try:
            return parse(row.get(column, ""))
        except (UserError, ValueError) as error:
            raise self.error(line, column, str(error)) from None


def _missing(required: Sequence[Required], columns: list[str]) -> list[str]:
    missing = []
    for names in required:
        options = (names,) if isinstance(names, str) else names
        if not any(name in columns for name in options):
            missing.append(" or ".join(options))
    return missing


def read_table(path: Path, required: Sequence[Required], *, dataset: str) -> Table:
    """Reads a CSV and checks its header; UserError naming the file and the missing column otherwise."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; the {dataset} importer needs it") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; re-save it as UTF-8 CSV") from None
    except OSError as error:
        raise UserError(f"{path} cannot be read: {error.strerror}") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        columns = [name.strip() for name in next(reader, [])]
        missing = _missing(required, columns)
        if missing:
            raise UserError(
                f"{path} has no column {', '.join(missing)} (its columns: {', '.join(columns) or 'none'}); "
                f"give the {dataset} metadata file with its original header"
            )
        rows = []
        line = reader.line_num + 1
        for values in reader:
            cells = [value.strip() for value in values] + [""] * (len(columns) - len(values))
            if any(cells):
                rows.append((line, dict(zip(columns, cells, strict=False))))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path} line {reader.line_num}: unreadable CSV ({error})") from None
    return Table(path=path, columns=columns, rows=rows)
