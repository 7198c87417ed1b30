"""The fidelity-curve chart: drawn from the runs whose metrics.jsonl logged KID, left out otherwise."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from dermgan.report.curves import fidelity_curve_png
from dermgan.report.html import write_report


def _write_metrics(path: Path, kid_at: dict[int, float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for step in range(1, 9):
        line = {"step": step, "loss_d_real": 0.7, "loss_g_gan": 0.7, "loss_g_l1": 0.2}
        if step in kid_at:
            line |= {"kid": kid_at[step], "kid_std": 0.01, "kid_images": 100}
        lines.append(json.dumps(line))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_chart_draws_every_run_that_logged_kid(tmp_path: Path):
    full = _write_metrics(tmp_path / "a" / "metrics.jsonl", {4: 0.3, 8: 0.1})
    ablated = _write_metrics(tmp_path / "b" / "metrics.jsonl", {4: 0.35, 8: 0.2})
    png = fidelity_curve_png({"DermGAN": full, "no ROI loss": ablated, "not trained": tmp_path / "c.jsonl"})
    assert png is not None
    assert Image.open(io.BytesIO(png)).size == (600, 340)


def test_no_chart_without_kid(tmp_path: Path):
    assert fidelity_curve_png({"DermGAN": _write_metrics(tmp_path / "metrics.jsonl", {})}) is None


def test_the_report_shows_the_chart_when_the_runs_logged_kid(tmp_path: Path):
    _write_metrics(tmp_path / "run" / "metrics.jsonl", {4: 0.3, 8: 0.1})
    _write_metrics(tmp_path / "ablation-runs" / "no-roi-loss" / "metrics.jsonl", {4: 0.35, 8: 0.2})
    page = write_report(tmp_path, tmp_path / "report.html").read_text()
    assert "The fidelity curve" in page
    assert "run/metrics.jsonl, ablation-runs/no-roi-loss/metrics.jsonl" in page

    _write_metrics(tmp_path / "run" / "metrics.jsonl", {})
    (tmp_path / "ablation-runs" / "no-roi-loss" / "metrics.jsonl").unlink()
    assert "The fidelity curve" not in write_report(tmp_path, tmp_path / "report.html").read_text()
