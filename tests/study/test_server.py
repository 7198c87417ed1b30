"""The real server process: killing and restarting it loses nothing; 30 participants at once lose nothing."""

from __future__ import annotations

import http.client
import signal
import socket
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx2
import pytest

from dermgan.errors import UserError
from dermgan.study.commands import _listen
from dermgan.study.participants import add_participants
from dermgan.study.store import connect, read_meta

from .helpers import Page, answer_next, consent, free_port, live_server, read_page, tokens


def test_killing_the_server_loses_no_answer(turing_db: Path):
    port = free_port()
    connection = sqlite3.connect(turing_db)
    token = connection.execute("SELECT token FROM participants WHERE name = 'P01'").fetchone()[0]
    connection.close()
    with live_server(turing_db, port) as server, httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
        consent(client, token)
        given = [answer_next(client, token, lambda p: p.images).question for _ in range(20)]
        server.send_signal(signal.SIGKILL)
        server.wait()
    with live_server(turing_db, port), httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
        page = read_page(client.get(f"/p/{token}").text)
        assert "Question <strong>21</strong> of 160" in page.text and page.question not in given
        answer_next(client, token, lambda p: [])
    connection = sqlite3.connect(turing_db)
    stored = connection.execute("SELECT question_id FROM answers WHERE participant_id = 1").fetchall()
    picks = connection.execute("SELECT COUNT(*), SUM(picked) FROM picks").fetchone()
    connection.close()
    assert sorted(q for (q,) in stored) == sorted([*given, page.question]) and picks == (21, 20)


class Browser:
    """One participant's two keep-alive connections (plain http.client: the load is the server's)."""

    def __init__(self, port: int, token: str):
        self.connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(2)]
        self.token = token

    def page(self) -> Page:
        self.connections[0].request("GET", f"/p/{self.token}")
        return read_page(self.connections[0].getresponse().read().decode())

    def post(self, path: str, form: dict, copies: int = 1) -> list[int]:
        """Sends the form `copies` times at once (each copy on its own connection); the statuses."""
        body = urlencode(form, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for connection in self.connections[:copies]:
            connection.request("POST", f"/p/{self.token}/{path}", body, headers)
        statuses = []
        for connection in self.connections[:copies]:
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        return statuses

    def take_part(self, replay_every: int) -> int:
        """Consents, then answers every question (picking the image when its id starts with a letter);
        every `replay_every`th answer is sent twice at once. Returns the number of answers sent."""
        assert self.post("consent", {"csrf": self.page().csrf}) == [303]
        sent = 0
        while (page := self.page()).question is not None:
            picked = [image for image in page.images if image[0].isalpha()]
            form = {"csrf": page.csrf, "question": page.question, "picked": picked}
            statuses = self.post("answer", form, copies=2 if sent % replay_every == 0 else 1)
            assert set(statuses) == {303}, statuses
            sent += 1
        return sent


def test_thirty_participants_at_once_each_answer_stored_exactly_once(turing_db: Path):
    connection = connect(turing_db)
    add_participants(connection, 27, seed=0)
    admin = read_meta(connection).admin_token
    connection.close()
    port = free_port()
    with live_server(turing_db, port), ThreadPoolExecutor(30) as pool:
        everyone = tokens(httpx2.get(f"http://127.0.0.1:{port}/admin/{admin}").text)
        assert len(everyone) == 30
        sent = list(pool.map(lambda token: Browser(port, token).take_part(replay_every=10), everyone))
    assert sent == [160] * 30
    connection = sqlite3.connect(turing_db)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM answers").fetchone() == (
        4800,
        30,
    )
    per_participant = connection.execute(
        "SELECT COUNT(DISTINCT question_id) FROM answers GROUP BY participant_id"
    )
    assert {n for (n,) in per_participant} == {160}
    picks = connection.execute(
        "SELECT COUNT(*), SUM(picked = (substr(image_id, 1, 1) GLOB '[A-Za-z]')) FROM picks"
    ).fetchone()
    assert picks == (4800, 4800)
    connection.close()


def test_a_port_already_in_use_is_one_clear_error_before_any_link_is_printed(turing_db: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}"):
            _listen("127.0.0.1", port)
    with pytest.raises(UserError, match="--port 70000 must be between 1 and 65535"):
        _listen("127.0.0.1", 70000)
