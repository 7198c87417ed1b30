"""Atomic file writes: a killed process or a full disk never leaves a half-written output behind."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from PIL import Image


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_DEFAULT_MODE = 0o666 & ~_umask()
"""What open() would give a new file: mkstemp's files are private to their owner."""


def _name_target(error: OSError, target: Path) -> None:
    """A fault while writing the temporary file is reported as a fault of the file the user asked for."""
    name = os.fsdecode(error.filename) if error.filename is not None else ""
    if not name or (Path(name).parent == target.parent and Path(name).name.startswith(f".{target.name}.")):
        error.filename = str(target)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` only if the block succeeds.

    An OSError inside (full disk, read-only file system) names `path` and leaves no temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
        yield Path(temporary)
        os.chmod(temporary, _DEFAULT_MODE)
        os.replace(temporary, target)
    except OSError as error:
        _name_target(error, target)
        raise
    finally:
        if temporary and os.path.exists(temporary):
            os.unlink(temporary)


def is_special_file(path: str | os.PathLike[str]) -> bool:
    """A FIFO, socket or device: reading one may block forever, so input files must not be one."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[str]], Any]) -> None:
    """Writes text through `write(handle)` atomically (UTF-8, Unix newlines)."""
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
        write(handle)


def write_bytes(path: str | os.PathLike[str], data: bytes | memoryview) -> None:
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text))


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def save_png(image: Image.Image, path: str | os.PathLike[str]) -> None:
    """Saves a PNG with no metadata of the source (no EXIF, no text chunks), atomically."""
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    with atomic_path(path) as temporary:
        clean.save(temporary, format="PNG")
