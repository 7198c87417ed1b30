"""Table cells that remember where their number came from.

Every number in the report is read from a stage's JSON output and printed with a format; the cell keeps
the file, the JSON pointer and the format (as `data-json` and `data-format` attributes in the page), so
anyone, and the test suite, can check that the page says exactly what the stages computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MISSING = "n/a"


@dataclass(frozen=True)
class Cell:
    text: str
    source: str = ""
    """`file.json#/json/pointer` of the number shown, relative to the report's folder; empty for text."""
    form: str = ""
    """The format of a number (with or without a source); empty for text."""


def resolve(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901) of a parsed document; None below a null (a measure that
    was not defined, such as the border irregularity of boxes where nothing was drawn)."""
    value = document
    for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        if value is None:
            return None
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def show(value: Any, form: str) -> str:
    """How a number is printed in the report: None is n/a; an estimate with its interval
    (`{"value", "low", "high"}`) is `value [low, high]`."""
    if value is None:
        return MISSING
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        shown = format(value["value"], form)
        return shown if low is None or high is None else f"{shown} [{low:{form}}, {high:{form}}]"
    return format(value, form)


class JsonFile:
    """One stage output, read once; cells point into it."""

    def __init__(self, root: Path, relative: str):
        self.relative = relative
        path = root / relative
        self.data = json.loads(path.read_text()) if path.exists() else None

    def __bool__(self) -> bool:
        return self.data is not None

    def get(self, pointer: str) -> Any:
        return resolve(self.data, pointer)

    def cell(self, pointer: str, form: str) -> Cell:
        return Cell(show(self.get(pointer), form), f"{self.relative}#{pointer}", form)


def escape_key(key: str) -> str:
    """A JSON object key as one pointer token."""
    return key.replace("~", "~0").replace("/", "~1")
