"""Fault injection: real file-size limits, a read-only folder, and a tiny dataset and run to break.

`file_size_limit` is a real fault at the OS level for every writer (PIL, csv, json, torch, safetensors,
SQLite, TensorBoard): with RLIMIT_FSIZE set and SIGXFSZ ignored, a write past the limit fails with
EFBIG, as it would with ENOSPC on a full disk. `read_only` makes a folder refuse every new file and
folder with EROFS (CI runs as root, so permissions prove nothing, and mounting needs privileges).
"""

from __future__ import annotations

import builtins
import errno
import os
import resource
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import TINY
from conftest import photo_rows as shared_photo_rows
from dermgan.cli import main
from dermgan.data.manifest import write_manifest
from dermgan.data.prepare import prepare_dataset


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """No file of this process may grow past `limit` bytes inside the block (EFBIG, like a full disk)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Every new folder or file under `root` fails with EROFS, as on a read-only file system."""
    root = os.path.abspath(root)

    def refused(path) -> bool:
        return os.path.abspath(os.fsdecode(path)).startswith(root)

    def fail(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    real_mkdir, real_open, real_builtin_open = os.mkdir, os.open, builtins.open

    def mkdir(path, *args, **kwargs):
        return fail(path) if refused(path) else real_mkdir(path, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        return fail(path) if writes and refused(path) else real_open(path, flags, *args, **kwargs)

    def builtin_open(file, mode="r", *args, **kwargs):
        writes = isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+")
        return fail(file) if writes and refused(file) else real_builtin_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", builtin_open)


def run(monkeypatch: pytest.MonkeyPatch, capsys, *args: object) -> tuple[int, str, str]:
    """`dermgan ARGS` in this process: (exit code, stdout, stderr as printed)."""
    monkeypatch.setattr(sys, "argv", ["dermgan", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def error_line(code: int, err: str, *needles: str) -> str:
    """The command failed with exit code 1 and one `error:` line, its last, naming every needle."""
    lines = [line.rsplit("\r", 1)[-1] for line in err.splitlines()]
    lines = [line for line in lines if line.strip()]
    assert code == 1, err
    assert "Traceback" not in err and "bug:" not in err, err
    errors = [line for line in lines if "error: " in line]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    message = errors[0][errors[0].index("error: ") :]
    for needle in needles:
        assert needle in message, message
    return message


def temporaries(folder: Path) -> list[Path]:
    """Half-written files an atomic write left behind (there must be none)."""
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp") or "-wal" in path.name]


def photo_rows(root: Path, source: str = "real") -> list[dict[str, str]]:
    """12 photos, each its own case, of 3 conditions and 6 skin types; the rows of their manifest."""
    return shared_photo_rows(root, photos_per_case=1, source=source, licence=None)


@pytest.fixture(scope="package")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest of 12 small photos (not to be changed by a test: copy it first)."""
    root = tmp_path_factory.mktemp("photos")
    return write_manifest(root / "manifest.csv", photo_rows(root))


@pytest.fixture(scope="package")
def prepared(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prepared") / "prepared"
    prepare_dataset(photos, out, size=32, split=(0.5, 0.25, 0.25), workers=1, progress=False)
    return out


TRAIN = [*TINY, "train.max_steps=2", "train.checkpoint_every=1", "train.batch_size=2"]
"""A 32 px run of two steps, a checkpoint after each."""


def train_arguments(data: Path, out: Path, *extra: str) -> list[str]:
    overrides = [item for key in (*TRAIN, *extra) for item in ("--set", key)]
    return ["train", "--data", data, "--out", out, *overrides, "--no-progress"]


@pytest.fixture(scope="package")
def run_dir(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-step run with its checkpoints and released generator (not to be changed: copy it)."""
    from dermgan.training.trainer import train

    out = tmp_path_factory.mktemp("run") / "run"
    train(prepared, out, overrides=TRAIN, progress=False)
    return out


@pytest.fixture(scope="package")
def study_manifests(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(real, synthetic) manifests of the same 12 photos, for `study create`."""
    root = tmp_path_factory.mktemp("synthetic")
    return photos, write_manifest(root / "manifest.csv", photo_rows(root, source="synthetic"))


def study_arguments(manifests: tuple[Path, Path], out: Path) -> list[object]:
    real, synthetic = manifests
    sizes = ["--n-real", "6", "--n-synthetic", "6", "--participants", "2", "--image-size", "32"]
    return [
        "study",
        "create",
        "--real",
        real,
        "--synthetic",
        synthetic,
        "--kind",
        "turing",
        "--out",
        out,
        *sizes,
    ]
