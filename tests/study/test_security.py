"""Every security rule of the study server: tokens, admin, traversal, foreign images, replays, input, CSRF."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dermgan.study.app import make_app

from .helpers import admin_token, answer_next, consent, read_page, tokens

UNKNOWN = "x" * 32


@pytest.fixture
def study(turing_db: Path) -> tuple[TestClient, str, list[str], Path]:
    """(client, admin token, participant tokens, database) of a fresh Turing study."""
    client = TestClient(make_app(turing_db), follow_redirects=False)
    admin = admin_token(turing_db)
    return client, admin, tokens(client.get(f"/admin/{admin}").text), turing_db


def _count(db: Path, table: str) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def _started(client: TestClient, token: str):
    consent(client, token)
    return read_page(client.get(f"/p/{token}").text)


def test_without_a_valid_token_nothing_but_the_start_page_answers(study):
    client, admin, participants, _ = study
    image = _started(client, participants[0]).images[0]
    start = client.get("/")
    assert start.status_code == 200 and "open the personal link" in start.text
    for path in [
        f"/p/{UNKNOWN}",
        f"/p/{UNKNOWN}/image/{image}",
        f"/admin/{UNKNOWN}",
        "/admin",
        f"/p/{participants[0][:-1]}",
        f"/p/{participants[0]}x",
        "/p/",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/static/",
        "/turing.db",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert participants[0] not in response.text and admin not in response.text
    for path in (f"/p/{UNKNOWN}/answer", f"/p/{UNKNOWN}/consent", f"/admin/{UNKNOWN}/participants"):
        assert client.post(path, data={"csrf": "x", "question": 1, "count": 1}).status_code == 404


def test_a_participant_token_opens_no_admin_page_and_no_other_participant(study):
    client, admin, participants, db = study
    own, other = participants[0], participants[1]
    assert client.get(f"/admin/{own}").status_code == 404
    form = {"csrf": read_page(client.get(f"/admin/{admin}").text).csrf, "count": 1}
    assert client.post(f"/admin/{own}/participants", data=form).status_code == 404
    page = _started(client, own)
    assert other not in page.text and admin not in page.text
    _started(client, other)
    answer_next(client, other, lambda p: p.images)
    assert other not in client.get(f"/p/{own}").text
    theirs = read_page(client.get(f"/p/{other}").text)
    forged = {"csrf": page.csrf, "question": theirs.question, "picked": theirs.images}
    assert client.post(f"/p/{other}/answer", data=forged).status_code == 403
    assert _count(db, "answers") == 1 and _count(db, "participants") == 3


def test_pages_give_no_source_away(study):
    client, _, participants, db = study
    connection = sqlite3.connect(db)
    origins = [Path(origin).stem for (origin,) in connection.execute("SELECT origin FROM images")]
    connection.close()
    text = _started(client, participants[0]).text
    for _ in range(10):
        answer_next(client, participants[0], lambda p: [])
        text += client.get(f"/p/{participants[0]}").text
    assert "synthetic" not in text.lower() and ".jpg" not in text and ".png" not in text
    assert not any(origin in text for origin in origins)


UP = "..%2F" * 12


@pytest.mark.parametrize(
    "path",
    [
        f"/p/{{token}}/image/{UP}etc%2Fpasswd",
        "/p/{token}/image/../../../../etc/passwd",
        f"/p/{{token}}/image/{UP.replace('%2F', '%5C')}etc%5Cpasswd",
        "/p/{token}/image/%2e%2e%2fturing.db",
        "/p/{token}/image/....//....//etc/passwd",
        f"/static/{UP}etc%2Fpasswd",
        "/static/../store.py",
        "/static/%2e%2e/store.py",
    ],
)
def test_image_ids_and_static_paths_cannot_reach_other_files(study, path):
    client, _, participants, _ = study
    response = client.get(path.format(token=participants[0]))
    assert response.status_code == 404
    assert "root:" not in response.text and "CREATE TABLE" not in response.text


def test_answers_naming_images_or_questions_outside_the_current_one_are_refused(study):
    client, _, participants, db = study
    page = _started(client, participants[0])
    connection = sqlite3.connect(db)
    foreign = connection.execute(
        "SELECT image_id FROM question_images WHERE question_id != ? LIMIT 1", (page.question,)
    ).fetchone()[0]
    later = connection.execute(
        "SELECT question_id FROM schedule WHERE participant_id = 1 AND position = 5"
    ).fetchone()[0]
    connection.close()

    def post(**form):
        return client.post(f"/p/{participants[0]}/answer", data={"csrf": page.csrf, **form})

    assert post(question=page.question, picked=[foreign]).status_code == 400
    assert post(question=page.question, picked=[page.images[0], page.images[0]]).status_code == 400
    assert post(question=later, picked=[]).status_code == 409
    assert post(question=999_999, picked=[]).status_code == 400
    assert _count(db, "answers") == 0 and _count(db, "picks") == 0


def test_a_replayed_answer_is_stored_once(study):
    client, _, participants, db = study
    page = _started(client, participants[0])
    form = {"csrf": page.csrf, "question": page.question, "picked": page.images}
    for picked in (page.images, page.images, []):
        response = client.post(f"/p/{participants[0]}/answer", data={**form, "picked": picked})
        assert response.status_code == 303
    connection = sqlite3.connect(db)
    assert connection.execute("SELECT COUNT(*), SUM(picked) FROM picks").fetchone() == (1, 1)
    connection.close()
    assert _count(db, "answers") == 1


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"question": "abc"}, 400),
        ({"question": "-1"}, 400),
        ({"picked": ["../../etc/passwd"]}, 400),
        ({"picked": ["a" * 17]}, 400),
        ({"picked": ["<script>alert(1)</script>"]}, 400),
        ({"csrf": "y" * 65}, 400),
        ({"csrf": None}, 400),
        ({"question": None}, 400),
    ],
)
def test_malformed_answers_are_refused(study, form, status):
    client, _, participants, db = study
    page = _started(client, participants[0])
    data = {"csrf": page.csrf, "question": page.question, "picked": page.images, **form}
    response = client.post(
        f"/p/{participants[0]}/answer", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == status and "<script>" not in response.text
    assert _count(db, "answers") == 0


def test_forms_are_protected_against_cross_site_request_forgery(study):
    client, admin, participants, db = study
    page = _started(client, participants[0])
    url = f"/p/{participants[0]}/answer"
    form = {"csrf": page.csrf, "question": page.question, "picked": []}
    assert client.post(url, data={**form, "csrf": "f" * 32}).status_code == 403
    for origin in ("https://evil.example", "null"):
        assert client.post(url, data=form, headers={"Origin": origin}).status_code == 403
    assert client.post(url, data=form, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    consent_url = f"/p/{participants[1]}/consent"
    assert client.post(consent_url, data={"csrf": page.csrf}).status_code == 403
    admin_form = {"csrf": "f" * 32, "count": 1}
    assert client.post(f"/admin/{admin}/participants", data=admin_form).status_code == 403
    assert _count(db, "answers") == 0 and _count(db, "participants") == 3
    expired = client.post(url, data={**form, "csrf": "f" * 32}).text
    assert "out of date" in expired and f'href="/p/{participants[0]}"' in expired
    same_site = client.post(url, data=form, headers={"Origin": "http://testserver"})
    assert same_site.status_code == 303 and _count(db, "answers") == 1


def test_answers_need_consent_first(study):
    client, _, participants, db = study
    page = read_page(client.get(f"/p/{participants[0]}").text)
    connection = sqlite3.connect(db)
    first = connection.execute("SELECT question_id FROM schedule WHERE participant_id = 1 AND position = 0")
    question = first.fetchone()[0]
    connection.close()
    response = client.post(f"/p/{participants[0]}/answer", data={"csrf": page.csrf, "question": question})
    assert response.status_code == 409 and _count(db, "answers") == 0


def test_every_page_is_sent_with_strict_headers(study):
    client, admin, participants, _ = study
    page = _started(client, participants[0])
    for path in ("/", f"/p/{participants[0]}", f"/admin/{admin}", f"/p/{UNKNOWN}"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "same-origin" and headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
    image = client.get(f"/p/{participants[0]}/image/{page.images[0]}")
    assert (
        image.headers["cache-control"].startswith("private")
        and image.headers["x-content-type-options"] == "nosniff"
    )
