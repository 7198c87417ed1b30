"""A participant's way through the pages, and the admin page, in-process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dermgan.study.app import make_app

from .helpers import admin_token, answer_next, consent, read_page, tokens


@pytest.fixture
def turing(turing_db: Path) -> tuple[TestClient, str, list[str]]:
    """(client, admin token, participant tokens) for a fresh copy of the 160-image Turing study."""
    client = TestClient(make_app(turing_db), follow_redirects=False)
    admin = admin_token(turing_db)
    return client, admin, tokens(client.get(f"/admin/{admin}").text)


def _answers(db: Path) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("SELECT participant_id, question_id, seconds FROM answers").fetchall()
    finally:
        connection.close()


def test_consent_comes_first_then_one_question_per_screen_with_progress(turing, turing_db: Path):
    client, _, participants = turing
    first = client.get(f"/p/{participants[0]}").text
    assert "I agree, start" in first and "160 photographs" in first and read_page(first).question is None
    consent(client, participants[0])
    page = read_page(client.get(f"/p/{participants[0]}").text)
    assert page.question is not None and len(page.images) == 1
    assert "Question <strong>1</strong> of 160" in page.text and "Real photograph" in page.text
    assert client.get(f"/p/{participants[0]}/image/{page.images[0]}").headers["content-type"] == "image/png"
    answer_next(client, participants[0], lambda p: p.images)
    assert "Question <strong>2</strong> of 160" in client.get(f"/p/{participants[0]}").text


def test_a_reload_shows_the_same_question_and_the_time_of_each_answer_is_kept(turing, turing_db: Path):
    client, _, participants = turing
    consent(client, participants[1])
    shown = [read_page(client.get(f"/p/{participants[1]}").text).question for _ in range(3)]
    assert len(set(shown)) == 1
    answered = answer_next(client, participants[1], lambda p: [])
    assert answered.question == shown[0]
    (stored,) = _answers(turing_db)
    assert stored[:2] == (2, shown[0]) and stored[2] is not None and 0 <= stored[2] < 30


def test_the_last_answer_leads_to_the_thank_you_page(relevance_db: Path):
    client = TestClient(make_app(relevance_db), follow_redirects=False)
    connection = sqlite3.connect(relevance_db)
    token = connection.execute("SELECT token FROM participants WHERE name = 'P03'").fetchone()[0]
    connection.close()
    consent(client, token)
    first = read_page(client.get(f"/p/{token}").text)
    assert "Select every image that shows" in first.text and len(first.images) == 8
    count = 0
    while answer_next(client, token, lambda p: p.images[:2]):
        count += 1
    assert count == 16 and "All 16 answers are saved" in client.get(f"/p/{token}").text
    assert len(_answers(relevance_db)) == 16


def test_the_admin_page_shows_progress_and_results_and_adds_participants(turing):
    client, admin, participants = turing
    consent(client, participants[0])
    for _ in range(4):
        answer_next(client, participants[0], lambda p: p.images)
    page = client.get(f"/admin/{admin}").text
    assert '<progress value="4" max="160"></progress> 4 / 160' in page
    assert "last answer" in page and page.count("(finished)") == 0
    assert "TPR (real judged real)" in page and "1.00 &plusmn; 0.00" in page
    csrf = read_page(page).csrf
    response = client.post(f"/admin/{admin}/participants", data={"csrf": csrf, "count": 2})
    assert response.status_code == 303
    added = tokens(client.get(f"/admin/{admin}").text)
    assert len(added) == 5 and added[:3] == participants
    assert "I agree, start" in client.get(f"/p/{added[4]}").text


def test_an_unknown_link_says_page_not_found(turing):
    client, _, _ = turing
    response = client.get("/p/" + "x" * 32)
    assert response.status_code == 404 and "<h1>Page not found</h1>" in response.text
    assert "Back to the study" not in response.text
