"""What can go wrong, said in one line: problems a user can fix, and faults of the machine or its files.

`UserError` is raised for bad input (a path, a row, a config value). The CLI's error boundary also turns
expected faults into one line: an OSError with an errno (full disk, read-only file system, a file where
a folder belongs), a file that is not UTF-8, a corrupt safetensors or pickle file. `fault_message` says
which exceptions those are and what to print; anything else is a bug, shown with its traceback.
"""

from __future__ import annotations

import errno
import os
import pickle
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from safetensors import SafetensorError


class UserError(Exception):
    """Bad input (path, row, config value) with a message that names the thing and how to fix it."""


FAULTS = (OSError, UnicodeDecodeError, SafetensorError, pickle.UnpicklingError, sqlite3.DatabaseError)
"""The exception types the CLI prints as one line (see fault_message); all others are bugs."""

BUG_REPORT = (
    "This is a bug in dermgan, not a problem with your input or files: please report it to the "
    "dermgan maintainers (the project's issue tracker) with the command you ran and the traceback above."
)

RERUN = "then rerun: nothing half-written is kept, and finished work is reused"
_PATH_ATTRIBUTE = "dermgan_path"
_OS_ERROR_IN_TEXT = re.compile(r"os error (\d+)")


@contextmanager
def about_file(path: str | os.PathLike[str]) -> Iterator[None]:
    """Names `path` on an expected fault raised inside the block that does not name a file itself
    (a write to an open handle, a decoding or deserialising error), for the CLI's one-line message."""
    try:
        yield
    except FAULTS as error:
        if not getattr(error, "filename", None) and not getattr(error, _PATH_ATTRIBUTE, None):
            with suppress(AttributeError):  # an extension type without a __dict__
                setattr(error, _PATH_ATTRIBUTE, os.fspath(path))
        raise


def _culprit(error: BaseException) -> str:
    """The path an error is about: os.replace names both ends, and the destination is what the user gave."""
    for name in ("filename2", "filename", _PATH_ATTRIBUTE):
        value = getattr(error, name, None)
        if value not in (None, ""):
            return os.fsdecode(value)
    return ""


def _file_in_the_way(path: str) -> str:
    """The first part of `path` that exists and is not a folder (why a folder below it cannot be made)."""
    for part in [*reversed(Path(path).parents), Path(path)]:
        if part.exists() and not part.is_dir():
            return str(part)
    return path


def describe_os_error(code: int | None, path: str, strerror: str = "") -> str:
    """One line for an OSError: what happened to `path` and what to do about it."""
    where = path or "a file of this command"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"no space left on the disk holding {where}: free some space or write elsewhere, {RERUN}"
    if code == errno.EFBIG:
        return (
            f"{where} grew past the largest file this system allows (a file-size limit, see `ulimit -f`): "
            f"raise the limit or write elsewhere, {RERUN}"
        )
    if code == errno.EROFS:
        return f"{where} is on a read-only file system: give an output path on a writable disk"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied for {where}: fix its permissions or choose another path"
    if code == errno.ENOTDIR:
        return f"{_file_in_the_way(where)} is a file, not a folder: give a folder path, or move that file"
    if code == errno.EEXIST:
        return f"{where} exists and is a file, not a folder: give a folder path, or move that file"
    if code == errno.EISDIR:
        return f"{where} is a folder, not a file: give a file path"
    if code == errno.ENOENT:
        return f"{where} does not exist"
    if code == errno.ELOOP:
        return f"{where} is a symbolic link loop (or goes through one): point it at a real file"
    if code == errno.ENAMETOOLONG:
        return f"{where}: a name in this path is too long for the file system; choose a shorter one"
    if code in (errno.EMFILE, errno.ENFILE):
        return f"too many open files (at {where}): raise the limit (`ulimit -n`) or use fewer --workers"
    if code == errno.EIO:
        return f"input/output error at {where}: the disk or network share failed; check it, {RERUN}"
    reason = strerror or (os.strerror(code) if code else "failed")
    return f"{where}: {reason[:1].lower()}{reason[1:]}"


def fault_message(error: BaseException) -> str | None:
    """The one line for an expected fault, or None when `error` is not one (a bug, to be reported)."""
    path = _culprit(error)
    named = f"{path} " if path else "a file "
    if isinstance(error, OSError):
        if error.errno is None:
            return None
        return describe_os_error(error.errno, path, error.strerror or "")
    if isinstance(error, UnicodeDecodeError):
        byte = error.object[error.start : error.start + 1].hex()
        return f"{named}is not UTF-8 text (byte 0x{byte} at offset {error.start}); re-save it as UTF-8"
    if isinstance(error, SafetensorError):
        code = _OS_ERROR_IN_TEXT.search(str(error))
        if code:
            return describe_os_error(int(code.group(1)), path)
        return f"{named}is not a readable safetensors file ({error}): it is truncated or corrupt"
    if isinstance(error, pickle.UnpicklingError):
        return f"{named}cannot be unpickled safely ({str(error).splitlines()[0][:200]}): it is corrupt"
    if isinstance(error, sqlite3.DatabaseError):
        where = f"SQLite database {path}" if path else "a SQLite database"
        return f"{where} failed ({error}): check the disk it is on, {RERUN}"
    return None
