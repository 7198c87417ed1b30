"""`dermgan demo --quick` end to end: every figure of the report decodes, every number is its stage's JSON."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from conftest import run_cli
from dermgan.demo.pipeline import run_demo
from dermgan.report.cells import resolve, show


class ReportParser(HTMLParser):
    """Collects the embedded images and every table cell that names the JSON its number came from."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.cells: list[tuple[str, str, str]] = []
        self.texts: list[str] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "img":
            self.images.append(attributes["src"])
        if tag == "td":
            self._open = {**attributes, "text": ""}

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._open is not None:
            if "data-json" in self._open:
                self.cells.append((self._open["data-json"], self._open["data-format"], self._open["text"]))
            self._open = None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, quick=True, progress=False)
    return out


def parse(report: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(report.read_text())
    return parser


def test_every_figure_decodes_as_an_image(demo: Path):
    parser = parse(demo / "report.html")
    assert len(parser.images) == 11  # ten figures and the fidelity curve
    for source in parser.images:
        header, encoded = source.split(",", 1)
        assert header == "data:image/png;base64"
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
            image.load()
            assert min(image.size) >= 32


def test_every_number_equals_the_stage_json_it_came_from(demo: Path):
    parser = parse(demo / "report.html")
    files = {source.split("#")[0] for source, _, _ in parser.cells}
    assert {
        "ablation/ablation.json",
        "eval/by-condition/fid.json",
        "eval/by-skin-type/fid.json",
        "eval/tone.json",
        "eval/roi.json",
        "classify/compare/compare.json",
    } <= files
    assert len(parser.cells) > 100
    documents = {name: json.loads((demo / name).read_text()) for name in files}
    for source, form, text in parser.cells:
        name, pointer = source.split("#")
        assert text == show(resolve(documents[name], pointer), form), source


def test_the_page_says_it_is_phantom_data_and_which_rows_were_not_run(demo: Path):
    text = " ".join(" ".join(parse(demo / "report.html").texts).split())
    assert "The phantom dataset is synthetic." in text and "These are phantom numbers" in text
    assert text.count("not run (--ablations)") == 3 * 5
    assert "dermgan demo --out" in text and "--quick" in text and "dermgan data import" in text


def test_a_second_demo_skips_every_stage(demo: Path, capsys):
    before = (demo / "run" / "generator.safetensors").stat().st_mtime_ns
    outcomes = run_demo(demo, quick=True, progress=False)
    assert [outcome.skipped for outcome in outcomes] == [True] * len(outcomes)
    assert (demo / "run" / "generator.safetensors").stat().st_mtime_ns == before
    assert "up to date, skipped" in capsys.readouterr().out


def test_the_report_command_rebuilds_the_page_from_the_outputs_alone(
    demo: Path, monkeypatch, capsys, tmp_path
):
    code, stdout, _ = run_cli(monkeypatch, capsys, "report", "--runs", demo, "--out", tmp_path / "again.html")
    assert code == 0 and "again.html" in stdout
    assert parse(tmp_path / "again.html").cells == parse(demo / "report.html").cells
    code, _, err = run_cli(
        monkeypatch, capsys, "report", "--runs", tmp_path / "nowhere", "--out", tmp_path / "x.html"
    )
    assert code == 1 and "is not a folder of stage outputs" in err


def test_a_folder_of_real_photos_is_not_called_phantom(demo: Path, tmp_path):
    from dermgan.data.manifest import read_manifest, write_manifest
    from dermgan.report.html import write_report

    rows = read_manifest(demo / "photos" / "manifest.csv").rows
    write_manifest(tmp_path / "photos" / "manifest.csv", [{**row, "dataset": "my-clinic"} for row in rows])
    text = " ".join(parse(write_report(tmp_path, tmp_path / "report.html")).texts)
    assert "DermGAN on your data" in text and "phantom dataset is synthetic" not in text
    assert "The data stage has not run." in text


def test_the_page_prints_commands_that_run(demo: Path):
    text = "\n".join(parse(demo / "report.html").texts)
    first = next(line for line in text.splitlines() if line.startswith("dermgan demo --out"))
    assert first == f"dermgan demo --out {demo} --quick"
    sweep = next(line for line in text.splitlines() if line.startswith("dermgan sweep tone"))
    maps = re.findall(r"--map '([^']*)'", sweep)
    assert len(maps) == 3
    for description in maps:
        assert json.loads(description)["skin_type"] == 2


def test_the_report_writes_nothing_into_the_runs_folder(demo: Path, tmp_path):
    from dermgan.report.html import write_report

    before = {path: path.stat().st_mtime_ns for path in demo.rglob("*") if path.is_file()}
    write_report(demo, tmp_path / "page.html")
    assert {path: path.stat().st_mtime_ns for path in demo.rglob("*") if path.is_file()} == before


def test_a_run_without_logged_steps_says_so(tmp_path):
    from dermgan.report.html import write_report

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text("")
    text = " ".join(parse(write_report(tmp_path, tmp_path / "report.html")).texts)
    assert "No training run yet." in text


def test_ablations_are_trained_once_and_kept_when_left_out_again(demo: Path, tmp_path):
    import shutil

    copy = tmp_path / "demo"
    shutil.copytree(demo, copy)
    run_demo(copy, quick=True, ablations=True, progress=False)
    table = json.loads((copy / "ablation" / "ablation.json").read_text())
    assert [row["evaluated"] for row in table["rows"]] == [True] * 5
    weights = sorted((copy / "ablation-runs").glob("*/generator.safetensors"))
    assert len(weights) == 3
    stamps = [path.stat().st_mtime_ns for path in weights]
    outcomes = {o.name: o.skipped for o in run_demo(copy, quick=True, progress=False)}
    assert outcomes["train"] and not outcomes["table"] and "ablations" not in outcomes
    assert [path.stat().st_mtime_ns for path in weights] == stamps
    table = json.loads((copy / "ablation" / "ablation.json").read_text())
    assert [row["evaluated"] for row in table["rows"]] == [True, True, False, False, False]
