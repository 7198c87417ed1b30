"""Scoring against hand-computed TPR/FPR (Turing test) and recall (relevance test), and the result files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from conftest import run_cli
from dermgan.errors import UserError
from dermgan.study.create import create_study
from dermgan.study.participants import find_participant
from dermgan.study.session import consent, record_answer, screens
from dermgan.study.store import connect


def _answered_study(manifests, db: Path, kind: str, picks: dict, **sizes) -> Path:
    """A study of acne and eczema with 2 participants, P01 and P02, who pick on each question the first N
    images (by file name) of each kind listed in `picks[name]`.

    A kind is (question condition, image condition, source); N counts over the whole study.
    """
    real, synthetic = manifests
    create_study(
        real, synthetic, kind, db, conditions=["acne", "eczema"], participants=2, image_size=32, **sizes
    )
    connection = connect(db)
    ranks = {}
    rows = connection.execute(
        "SELECT i.id, q.condition, i.condition, i.source FROM images i "
        "JOIN question_images qi ON qi.image_id = i.id JOIN questions q ON q.id = qi.question_id "
        "ORDER BY i.origin"
    ).fetchall()
    seen: dict[tuple, int] = {}
    for image_id, *kind in rows:
        ranks[image_id] = (tuple(kind), seen.setdefault(tuple(kind), 0))
        seen[tuple(kind)] += 1
    for token, name in connection.execute("SELECT token, name FROM participants").fetchall():
        participant = find_participant(connection, token)
        consent(connection, participant)
        participant = find_participant(connection, token)
        while upcoming := screens(connection, participant, 1):
            chosen = [i for i in upcoming[0].image_ids if ranks[i][1] < picks[name].get(ranks[i][0], 0)]
            record_answer(connection, participant, upcoming[0].question_id, chosen)
    connection.close()
    return db


@pytest.fixture
def turing_answered(manifests, tmp_path: Path) -> Path:
    """2 participants; 2 real + 2 synthetic images of acne and of eczema; answers: see the next test."""
    return _answered_study(
        manifests,
        tmp_path / "turing.db",
        "turing",
        {
            "P01": {
                ("acne", "acne", "real"): 2,
                ("acne", "acne", "synthetic"): 1,
                ("eczema", "eczema", "real"): 1,
            },
            "P02": {("acne", "acne", "real"): 1, ("eczema", "eczema", "synthetic"): 2},
        },
        n_real=4,
        n_synthetic=4,
    )


def test_turing_rates_match_the_hand_computed_ones(
    monkeypatch, capsys, turing_answered: Path, tmp_path: Path
):
    """P01: acne TPR 2/2 FPR 1/2, eczema TPR 1/2 FPR 0/2; P02: acne 1/2 and 0/2, eczema 0/2 and 2/2."""
    out = tmp_path / "r"
    code, stdout, _ = run_cli(
        monkeypatch, capsys, "study", "results", turing_answered, "--out", out, "--json"
    )
    results = json.loads(stdout.strip().splitlines()[-1])
    assert code == 0 and results["real_rate_name"] == "tpr"
    rates = {
        (r["participant"], r["condition"]): (r["real_rate"], r["synthetic_rate"])
        for r in results["participants"]
    }
    assert rates == {
        ("P01", "acne"): (1.0, 0.5),
        ("P01", "eczema"): (0.5, 0.0),
        ("P01", "all"): (0.75, 0.25),
        ("P02", "acne"): (0.5, 0.0),
        ("P02", "eczema"): (0.0, 1.0),
        ("P02", "all"): (0.25, 0.5),
    }
    summary = {s["condition"]: s for s in results["conditions"]}
    assert list(summary) == ["acne", "eczema", "all"]
    expected = {
        "acne": (0.75, 0.25, 0.25, 0.25),
        "eczema": (0.25, 0.25, 0.5, 0.5),
        "all": (0.5, 0.25, 0.375, 0.125),
    }
    for condition, values in expected.items():
        row = summary[condition]
        got = (row["real_mean"], row["real_std"], row["synthetic_mean"], row["synthetic_std"])
        assert got == pytest.approx(values), condition
    with open(tmp_path / "r" / "conditions.csv") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["condition", "n_participants", "tpr_mean", "tpr_std", "fpr_mean", "fpr_std"]
    assert float(table[2]["fpr_mean"]) == pytest.approx(0.375)
    with open(tmp_path / "r" / "participants.csv") as handle:
        assert "tpr" in next(csv.reader(handle))
    with Image.open(tmp_path / "r" / "turing.png") as plot:
        assert plot.width > 500 and plot.height > 300
    assert [p["answered"] for p in results["progress"]] == [8, 8]


def test_relevance_recall_counts_only_images_of_the_asked_condition(manifests, tmp_path: Path):
    """Per question: 1 real + 1 synthetic of its condition, 1 + 1 of the other.

    P01 picks on the acne question the real acne image and a real eczema distractor, on the eczema question
    the synthetic eczema image; P02 picks nothing on acne and both eczema images. Recall: acne real 1 and 0,
    acne synthetic 0 and 0, eczema real 0 and 1, eczema synthetic 1 and 1; the distractor does not count.
    """
    from dermgan.study.results import study_results

    db = _answered_study(
        manifests,
        tmp_path / "relevance.db",
        "relevance",
        {
            "P01": {
                ("acne", "acne", "real"): 1,
                ("acne", "eczema", "real"): 1,
                ("eczema", "eczema", "synthetic"): 1,
            },
            "P02": {("eczema", "eczema", "real"): 1, ("eczema", "eczema", "synthetic"): 1},
        },
        questions=2,
        per_question=4,
    )
    results = study_results(db, tmp_path / "r")
    rates = {(r.participant, r.condition): (r.real_rate, r.synthetic_rate) for r in results.participants}
    assert rates == {
        ("P01", "acne"): (1.0, 0.0),
        ("P01", "eczema"): (0.0, 1.0),
        ("P01", "all"): (0.5, 0.5),
        ("P02", "acne"): (0.0, 0.0),
        ("P02", "eczema"): (1.0, 1.0),
        ("P02", "all"): (0.5, 0.5),
    }
    summary = {
        s.condition: (s.real_mean, s.real_std, s.synthetic_mean, s.synthetic_std) for s in results.conditions
    }
    assert summary == {
        "acne": (0.5, 0.5, 0.0, 0.0),
        "eczema": (0.5, 0.5, 1.0, 0.0),
        "all": (0.5, 0.0, 0.5, 0.0),
    }
    assert (tmp_path / "r" / "relevance.png").is_file()
    with open(tmp_path / "r" / "conditions.csv") as handle:
        assert "recall_synthetic_mean" in next(csv.reader(handle))


def test_a_study_without_answers_scores_empty(turing_db: Path, tmp_path: Path):
    from dermgan.study.results import study_results

    results = study_results(turing_db, tmp_path)
    assert results.participants == [] and results.conditions == []
    assert [p.answered for p in results.progress] == [0, 0, 0]
    assert json.loads((tmp_path / "results.json").read_text())["kind"] == "turing"


def test_early_results_plot_a_rate_nobody_has_answered_as_missing_not_zero(turing_db: Path, tmp_path: Path):
    """One answer: only a TPR or only an FPR exists; the figure is still written (no bar for the other)."""
    from dermgan.study.results import study_results

    connection = connect(turing_db)
    participant = find_participant(
        connection, connection.execute("SELECT token FROM participants").fetchone()[0]
    )
    consent(connection, participant)
    participant = find_participant(connection, participant.token)
    (screen,) = screens(connection, participant, 1)
    record_answer(connection, participant, screen.question_id, screen.image_ids)
    connection.close()
    results = study_results(turing_db, tmp_path)
    (overall,) = [s for s in results.conditions if s.condition == "all"]
    assert (overall.real_mean is None) != (overall.synthetic_mean is None)
    assert Image.open(tmp_path / "turing.png").size[0] > 0


def test_results_into_an_unwritable_folder_is_one_clear_error(turing_db: Path, tmp_path: Path):
    from dermgan.study.results import study_results

    blocker = tmp_path / "file"
    blocker.write_text("a file where the results folder should be")
    with pytest.raises(UserError, match="cannot write the results into"):
        study_results(turing_db, blocker / "out")
