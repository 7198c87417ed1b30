"""Every command that writes, on an output that cannot be written: one line, nothing half-written, and a
rerun (once the cause is gone) that finishes as if nothing had happened."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from faults.conftest import (
    error_line,
    file_size_limit,
    read_only,
    run,
    study_arguments,
    temporaries,
    train_arguments,
)

OUTPUT_IS_A_FILE = {
    "phantom": lambda f, out: ["data", "phantom", "--out", out, "--n", "2", "--workers", "1"],
    "import": lambda f, out: ["data", "import", "manifest", f["photos"], "--out", out],
    "validate": lambda f, out: ["data", "validate", f["photos"], "--no-images", "--out", out],
    "prepare": lambda f, out: ["data", "prepare", f["photos"], "--out", out, "--size", "32"],
    "train": lambda f, out: train_arguments(f["prepared"], out),
    "generate": lambda f, out: ["generate", "--model", f["run"], "--out", out, "--n", "2", "--no-progress"],
    "eval tone": lambda f, out: ["eval", "tone", f["prepared"], "--out", out],
    "classify train": lambda f, out: [
        "classify",
        "train",
        "--data",
        f["prepared"] / "manifest.csv",
        "--out",
        out,
    ],
    "demo": lambda f, out: ["demo", "--out", out, "--quick", "--no-progress"],
    "study results": lambda f, out: ["study", "results", f["study"], "--out", out],
}
OUTPUT_IS_A_FOLDER = {
    "show": lambda f, out: ["data", "show", f["prepared"], "--out", out],
    "sweep": lambda f, out: [
        *["sweep", "size", "--condition", "acne", "--skin-type", "2"],
        "--model",
        f["run"],
        "--out",
        out,
    ],
    "report": lambda f, out: ["report", "--out", out],
    "export": lambda f, out: ["export", "--model", f["run"], "--format", "torchscript", "--out", out],
}
READ_ONLY = {
    "phantom": OUTPUT_IS_A_FILE["phantom"],
    "prepare": OUTPUT_IS_A_FILE["prepare"],
    "train": OUTPUT_IS_A_FILE["train"],
    "generate": OUTPUT_IS_A_FILE["generate"],
    "study create": lambda f, out: study_arguments(f["study manifests"], out / "study.db"),
    "report": lambda f, out: ["report", "--out", out / "report.html", "--runs", f["prepared"].parent],
}


@pytest.fixture(scope="module")
def inputs(photos, prepared, run_dir, study_manifests, tmp_path_factory) -> dict[str, Path]:
    study = tmp_path_factory.mktemp("study") / "study.db"
    from dermgan.study.create import create_study

    create_study(*study_manifests, "turing", study, n_real=6, n_synthetic=6, participants=2, image_size=32)
    return {
        "photos": photos,
        "prepared": prepared,
        "run": run_dir,
        "study": study,
        "study manifests": study_manifests,
    }


@pytest.mark.parametrize("command", sorted(OUTPUT_IS_A_FILE))
def test_an_output_folder_that_is_a_file_is_one_line(monkeypatch, capsys, tmp_path, inputs, command):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the output folder should be")
    code, _, err = run(monkeypatch, capsys, *OUTPUT_IS_A_FILE[command](inputs, blocker))
    error_line(code, err, str(blocker))
    assert blocker.read_text() == "a file where the output folder should be"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("command", sorted(OUTPUT_IS_A_FOLDER))
def test_an_output_file_that_is_a_folder_is_one_line(monkeypatch, capsys, tmp_path, inputs, command):
    folder = tmp_path / "picture.png"
    folder.mkdir()
    code, _, err = run(monkeypatch, capsys, *OUTPUT_IS_A_FOLDER[command](inputs, folder))
    error_line(code, err, str(folder), "folder")
    assert list(folder.iterdir()) == [] and temporaries(tmp_path) == []


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_a_read_only_output_is_one_line(monkeypatch, capsys, tmp_path, inputs, command):
    disk = tmp_path / "read-only"
    disk.mkdir()
    arguments = READ_ONLY[command](
        inputs, disk / "out" if command not in ("study create", "report") else disk
    )
    read_only(monkeypatch, disk)
    code, _, err = run(monkeypatch, capsys, *arguments)
    error_line(code, err, str(disk), "read-only file system")
    assert list(disk.iterdir()) == []


def _files(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, the folder's own name (which JSON summaries hold) left out, and of generate's
    summary only what it made (not how much of it this run made)."""
    files = {
        str(path.relative_to(folder)): path.read_bytes().replace(str(folder).encode(), b"OUT")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    if "generate.json" in files:
        summary = json.loads(files["generate.json"])
        files["generate.json"] = {key: value for key, value in summary.items() if key != "n_made_now"}
    return files


MIDWAY = {
    # command, file-size limit in bytes (each output needs more than that, some files less)
    "phantom": (lambda f, out: ["data", "phantom", "--out", out, "--n", "6", "--size-range", "64,96"], 3000),
    "prepare": (lambda f, out: ["data", "prepare", f["photos"], "--out", out, "--size", "32"], 1500),
    "generate": (
        lambda f, out: ["generate", "--model", f["run"], "--out", out, "--n", "8", "--no-progress"],
        2000,
    ),
}


@pytest.mark.parametrize("command", sorted(MIDWAY))
def test_a_full_disk_midway_keeps_no_half_file_and_the_rerun_makes_the_same_output(
    monkeypatch, capsys, tmp_path, inputs, command
):
    arguments, limit = MIDWAY[command]
    code, _, _ = run(monkeypatch, capsys, *arguments(inputs, tmp_path / "clean"))
    assert code == 0
    with file_size_limit(limit):
        code, _, err = run(monkeypatch, capsys, *arguments(inputs, tmp_path / "out"))
    message = error_line(code, err, str(tmp_path / "out"), "grew past the largest file")
    assert "rerun" in message
    written = tmp_path / "out"
    assert temporaries(written) == [] and any(p.is_file() for p in written.rglob("*"))
    code, _, _ = run(monkeypatch, capsys, *arguments(inputs, written))
    assert code == 0
    assert _files(written) == _files(tmp_path / "clean")


def test_a_full_disk_at_the_first_checkpoint_leaves_no_checkpoint_and_the_rerun_trains(
    monkeypatch, capsys, tmp_path, inputs
):
    out = tmp_path / "run"
    with file_size_limit(300_000):  # where torch.save would say only "unexpected pos 195904 vs 195800"
        code, _, err = run(monkeypatch, capsys, *train_arguments(inputs["prepared"], out))
    error_line(code, err, str(out / "checkpoints" / "step-0000001.pt"), "grew past")
    assert temporaries(out) == [] and list((out / "checkpoints").iterdir()) == []
    code, out_text, _ = run(monkeypatch, capsys, *train_arguments(inputs["prepared"], out))
    assert code == 0 and "trained to step 2" in out_text
    assert (out / "generator.safetensors").exists()


def test_a_full_disk_during_a_torchscript_export_is_one_line_not_an_abort(
    monkeypatch, capsys, tmp_path, inputs
):
    out = tmp_path / "generator.pt"
    with file_size_limit(50_000):
        code, _, err = run(monkeypatch, capsys, *OUTPUT_IS_A_FOLDER["export"](inputs, out))
    error_line(code, err, str(out), "grew past")
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_error_keeps_its_traceback_and_says_where_to_report_it(monkeypatch, capsys, inputs):
    import sys

    from dermgan.data import validate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(validate, "validate_manifest", broken)
    monkeypatch.setattr(sys, "argv", ["dermgan", "data", "validate", str(inputs["photos"])])
    from dermgan.cli import main

    with pytest.raises(ZeroDivisionError) as raised:
        main()
    sys.excepthook(raised.type, raised.value, raised.tb)
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err
    assert "bug: This is a bug in dermgan" in err and "report it" in err


def test_a_background_writer_that_hits_a_full_disk_prints_no_traceback_of_its_own(capsys):
    import errno
    import threading

    from dermgan.cli import _thread_fault

    def fail(error):
        try:
            raise error
        except BaseException as raised:
            _thread_fault(threading.ExceptHookArgs((type(raised), raised, raised.__traceback__, None)))

    fail(OSError(errno.ENOSPC, "No space left on device"))
    assert capsys.readouterr().err == ""
    fail(KeyError("a bug in a thread"))
    assert "KeyError" in capsys.readouterr().err


def test_the_results_json_of_a_command_that_failed_is_never_trusted(monkeypatch, capsys, tmp_path, inputs):
    out = tmp_path / "validated"
    with file_size_limit(300):
        code, _, err = run(monkeypatch, capsys, "data", "validate", inputs["photos"], "--out", out)
    error_line(code, err, str(out / "validate.json"))
    assert not (out / "validate.json").exists() and temporaries(out) == []
    code, _, _ = run(monkeypatch, capsys, "data", "validate", inputs["photos"], "--out", out)
    assert code == 0 and json.loads((out / "validate.json").read_text())["n_usable"] == 12
    shutil.rmtree(out)
