"""Driving the study pages as a browser would: read the form on the page, post an answer."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from dermgan.study.store import connect, read_meta

IMAGE_IN_PAGE = re.compile(r'/image/([A-Za-z0-9_-]{16})"')


@dataclass
class Page:
    """What a participant's page asks: the question id, its images in order, the form's CSRF token."""

    question: int | None
    images: list[str]
    csrf: str | None
    text: str


def read_page(text: str) -> Page:
    question = re.search(r'name="question" value="(\d+)"', text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', text)
    images = list(dict.fromkeys(IMAGE_IN_PAGE.findall(text.split("</head>")[-1])))
    return Page(int(question[1]) if question else None, images, csrf[1] if csrf else None, text)


def consent(client: httpx2.Client, token: str) -> None:
    page = read_page(client.get(f"/p/{token}").text)
    response = client.post(f"/p/{token}/consent", data={"csrf": page.csrf})
    assert response.status_code == 303, response.text


def answer_next(client: httpx2.Client, token: str, choose: Callable[[Page], list[str]]) -> Page | None:
    """Answers the current question with the images `choose` picks; None when the study is finished."""
    page = read_page(client.get(f"/p/{token}").text)
    if page.question is None:
        return None
    response = client.post(
        f"/p/{token}/answer", data={"csrf": page.csrf, "question": page.question, "picked": choose(page)}
    )
    assert response.status_code == 303, response.text
    return page


def tokens(admin_page: str) -> list[str]:
    """The participants' tokens, from the links on the admin page."""
    return re.findall(r"/p/([A-Za-z0-9_-]{32})<", admin_page)


def admin_token(db: Path) -> str:
    connection = connect(db)
    try:
        return read_meta(connection).admin_token
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(db: Path, port: int) -> Iterator[subprocess.Popen]:
    """`dermgan study serve DB` in a process of its own, ready when this yields; killed afterwards."""
    log = db.with_suffix(".log")
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "dermgan", "study", "serve", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the study server did not start: {log.read_text()}")
        yield process
    finally:
        process.kill()
        process.wait()
