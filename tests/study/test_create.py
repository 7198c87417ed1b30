"""Building a study: balanced over conditions and sources, shuffled, blinded, reproducible, clear errors."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import struct
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_cli
from dermgan.errors import UserError
from dermgan.study.create import create_study


def _rows(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _png_chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        length, name = struct.unpack(">I4s", data[offset : offset + 8])
        chunks.append(name.decode())
        offset += 12 + length
    return chunks


def test_a_turing_study_is_balanced_over_conditions_and_sources(turing_db: Path):
    counts = Counter(_rows(turing_db, "SELECT condition, source FROM images"))
    assert sum(counts.values()) == 160
    for source in ("real", "synthetic"):
        assert sorted(counts[(c, source)] for c in ("acne", "eczema", "melanoma")) == [26, 27, 27]
    per_question = _rows(turing_db, "SELECT COUNT(*) FROM question_images GROUP BY question_id")
    assert len(per_question) == 160 and {n for (n,) in per_question} == {1}


def test_questions_are_shuffled_and_each_participant_has_their_own_order(turing_db: Path):
    sources = [
        source
        for (source,) in _rows(
            turing_db,
            "SELECT i.source FROM questions q JOIN question_images qi ON qi.question_id = q.id "
            "JOIN images i ON i.id = qi.image_id ORDER BY q.id",
        )
    ]
    assert sum(a != b for a, b in itertools.pairwise(sources)) > 40
    orders = {}
    for participant, question in _rows(
        turing_db, "SELECT participant_id, question_id FROM schedule ORDER BY participant_id, position"
    ):
        orders.setdefault(participant, []).append(question)
    assert len(orders) == 3
    assert all(sorted(order) == list(range(1, 161)) for order in orders.values())
    assert len({tuple(order) for order in orders.values()}) == 3


def test_a_relevance_question_mixes_its_condition_with_others_real_and_synthetic(relevance_db: Path):
    rows = _rows(
        relevance_db,
        "SELECT q.id, q.condition, i.condition, i.source, i.id FROM questions q "
        "JOIN question_images qi ON qi.question_id = q.id JOIN images i ON i.id = qi.image_id",
    )
    questions: dict[int, list[tuple]] = {}
    for question, asked, condition, source, _ in rows:
        questions.setdefault(question, []).append((asked, condition, source))
    assert len(questions) == 16
    for images in questions.values():
        kinds = Counter((condition == asked, source) for asked, condition, source in images)
        assert kinds == {
            (True, "real"): 2,
            (True, "synthetic"): 2,
            (False, "real"): 2,
            (False, "synthetic"): 2,
        }
    assert sorted(Counter(images[0][0] for images in questions.values()).values()) == [5, 5, 6]
    assert len({row[4] for row in rows}) == len(rows) == 128


def test_every_study_image_looks_alike_on_disk_and_its_id_says_nothing(turing_db: Path):
    """One format, one pixel size, one byte size, no metadata; ids random, not the file names."""
    rows = _rows(turing_db, "SELECT id, data, origin, source FROM images")
    assert {len(data) for _, data, _, _ in rows} == {len(rows[0][1])}
    for image_id, data, origin, _ in rows:
        assert _png_chunks(data) == ["IHDR", "IDAT", "IEND"]
        assert struct.unpack(">II", data[16:24]) == (32, 32)
        assert Path(origin).stem not in image_id
    assert {origin.endswith(".jpg") for _, _, origin, source in rows if source == "real"} == {True}
    assert len({image_id for image_id, *_ in rows}) == 160
    assert len({image_id[:4] for image_id, *_ in rows}) > 100


def test_the_same_seed_draws_the_same_images(manifests, tmp_path: Path):
    real, synthetic = manifests
    draws = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        create_study(real, synthetic, "turing", tmp_path / f"{name}.db", n_real=6, n_synthetic=6, seed=seed)
        draws.append(_rows(tmp_path / f"{name}.db", "SELECT origin FROM images ORDER BY rowid"))
    assert draws[0] == draws[1] != draws[2]


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"n_real": 200}, "needs more real images of 'acne' than the manifest has left (30 for 67)"),
        ({"conditions": ["acne", "psoriasis"]}, "psoriasis are not in both manifests"),
        ({"kind": "survey"}, "--kind 'survey' is not one of turing, relevance"),
        ({"kind": "relevance", "per_question": 6}, "multiple of 4"),
        ({"kind": "relevance", "conditions": ["acne"]}, "at least two conditions"),
        ({"image_size": 8}, "between 32 and 1024"),
        ({"n_real": -1}, "--n-real -1 and --n-synthetic 80 must be 0 or more, and not both 0"),
        ({"n_real": 0, "n_synthetic": 0}, "must be 0 or more, and not both 0"),
        ({"kind": "relevance", "questions": 0}, "--questions 0 must be at least 1"),
    ],
)
def test_an_impossible_study_is_one_clear_error(manifests, tmp_path: Path, options, needle):
    real, synthetic = manifests
    arguments = {"kind": "turing", **options}
    with pytest.raises(UserError, match=re.escape(needle)):
        create_study(real, synthetic, out=tmp_path / "s.db", **arguments)
    assert not (tmp_path / "s.db").exists()


def test_a_study_is_never_overwritten_nor_built_from_mislabelled_sources(manifests, turing_db: Path):
    real, synthetic = manifests
    with pytest.raises(UserError, match="exists; a study is never overwritten"):
        create_study(real, synthetic, "turing", turing_db)
    with pytest.raises(UserError, match="must hold real images only"):
        create_study(synthetic, synthetic, "turing", turing_db.with_name("new.db"))
    turing_db.with_name("old.db-wal").write_bytes(b"a journal a deleted study left behind")
    with pytest.raises(UserError, match=r"old\.db-wal is left from an earlier study"):
        create_study(real, synthetic, "turing", turing_db.with_name("old.db"))


def test_study_create_prints_the_result_as_json(monkeypatch, capsys, manifests, tmp_path: Path):
    real, synthetic = manifests
    out = tmp_path / "study.db"
    code, stdout, _ = run_cli(
        monkeypatch,
        capsys,
        "study",
        "create",
        "--real",
        real,
        "--synthetic",
        synthetic,
        "--kind",
        "relevance",
        "--out",
        out,
        "--questions",
        "4",
        "--participants",
        "2",
        "--image-size",
        "32",
        "--json",
    )
    created = json.loads(stdout.strip().splitlines()[-1])
    assert code == 0 and created["n_questions"] == 4 and created["n_real"] == created["n_synthetic"] == 16
    assert [p["name"] for p in created["participants"]] == ["P01", "P02"]
    assert all(len(p["path"]) == len("/p/") + 32 for p in created["participants"])
    code, _, stderr = run_cli(
        monkeypatch, capsys, "study", "results", tmp_path / "none.db", "--out", tmp_path
    )
    assert code == 1 and "does not exist; make one with `dermgan study create`" in stderr


def test_a_missing_manifest_or_an_unwritable_output_is_one_clear_error(manifests, tmp_path: Path):
    real, synthetic = manifests
    with pytest.raises(UserError, match=r"--real .*nowhere\.csv does not exist"):
        create_study(tmp_path / "nowhere.csv", synthetic, "turing", tmp_path / "s.db")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the study's folder should be")
    with pytest.raises(UserError, match=r"cannot write the study .*choose another --out"):
        create_study(real, synthetic, "turing", blocker / "s.db", n_real=2, n_synthetic=2)
