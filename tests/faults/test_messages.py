"""The error boundary's one line for each expected fault: what happened, to which file, what to do."""

from __future__ import annotations

import errno
import pickle
import sqlite3
from pathlib import Path

import pytest
from safetensors import SafetensorError

from dermgan.errors import about_file, fault_message
from dermgan.files import atomic_path, write_text


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (errno.ENOSPC, "no space left on the disk holding out/a.json: free some space"),
        (errno.EDQUOT, "no space left on the disk holding out/a.json"),
        (errno.EFBIG, "out/a.json grew past the largest file this system allows"),
        (errno.EROFS, "out/a.json is on a read-only file system"),
        (errno.EACCES, "permission denied for out/a.json"),
        (errno.EIO, "input/output error at out/a.json"),
        (errno.EMFILE, "too many open files"),
    ],
)
def test_an_os_error_is_one_line_naming_the_file(code, said):
    message = fault_message(OSError(code, "whatever the C library says", "out/a.json"))
    assert message is not None and message.startswith(said) and "\n" not in message


def test_the_part_of_a_path_that_is_a_file_is_named(tmp_path: Path):
    (tmp_path / "results").write_text("a file")
    error = OSError(errno.ENOTDIR, "Not a directory", str(tmp_path / "results" / "images" / "x.png"))
    assert fault_message(error).startswith(f"{tmp_path / 'results'} is a file, not a folder")


def test_a_failed_write_names_the_file_asked_for_not_its_temporary(tmp_path: Path):
    with pytest.raises(OSError) as raised, atomic_path(tmp_path / "report.html") as temporary:
        raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.filename == str(tmp_path / "report.html") and str(temporary) not in fault_message(
        raised.value
    )
    with pytest.raises(IsADirectoryError) as raised:
        write_text(tmp_path, "a folder is no file")
    assert fault_message(raised.value) == f"{tmp_path} is a folder, not a file: give a file path"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte"),
            "x.yaml is not UTF-8 text (byte 0xff",
        ),
        (
            SafetensorError("Error while deserializing header: header too large"),
            "x.yaml is not a readable safetensors",
        ),
        (
            pickle.UnpicklingError("invalid load key, 'x'.\nmore"),
            "x.yaml cannot be unpickled safely (invalid load key",
        ),
        (
            sqlite3.OperationalError("database or disk is full"),
            "SQLite database x.yaml failed (database or disk",
        ),
    ],
)
def test_a_decoding_or_database_fault_names_the_file_it_is_about(error, said):
    with pytest.raises(type(error)) as raised, about_file("x.yaml"):
        raise error
    assert fault_message(raised.value).startswith(said)


def test_a_safetensors_write_error_says_what_the_os_said():
    error = SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    assert fault_message(error).startswith("no space left on the disk holding a file of this command")


def test_anything_else_is_no_fault_but_a_bug():
    assert fault_message(KeyError("step")) is None
    assert fault_message(OSError("no errno")) is None
