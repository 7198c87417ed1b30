"""The study as a person uses it: a real headless Chromium (Debian's package) driven by Playwright.

Without /usr/bin/chromium the test skips with its reason, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dermgan.study.create import create_study

from .helpers import admin_token, free_port, live_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 768}


def _needs(ready: bool, reason: str) -> None:
    if ready:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    _needs(
        CHROMIUM.is_file(),
        f"the browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _needs(False, "the browser test needs Playwright for Python (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    """A laptop-sized page that fails the test on any console error (e.g. a blocked script or style)."""
    page = browser.new_page(viewport=LAPTOP)
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == []


def _study(manifests, tmp_path: Path, kind: str, **sizes) -> tuple[Path, str]:
    """A small study; returns it and P01's personal link path."""
    real, synthetic = manifests
    db = tmp_path / f"{kind}.db"
    created = create_study(real, synthetic, kind, db, participants=1, image_size=256, **sizes)
    return db, created.participants[0].path


def test_a_participant_answers_reloads_finishes_and_the_admin_sees_it(page, manifests, tmp_path: Path):
    db, link = _study(manifests, tmp_path, "turing", n_real=4, n_synthetic=4)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with live_server(db, port):
        page.goto(base + link)
        page.screenshot(path=tmp_path / "study-consent.png")
        page.get_by_role("button", name="I agree, start").click()
        assert page.locator(".count").inner_text() == "Question 1 of 8"
        image = page.locator("img.single")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 256
        assert image.bounding_box()["height"] >= 450
        page.screenshot(path=tmp_path / "study-turing.png")
        page.get_by_role("button", name="Real photograph").click()
        page.wait_for_selector("text=Question 2 of 8")
        page.keyboard.press("g")
        page.wait_for_selector("text=Question 3 of 8")
        source = image.get_attribute("src")
        page.reload()
        assert page.locator(".count").inner_text() == "Question 3 of 8"
        assert image.get_attribute("src") == source
        for number in range(3, 9):
            page.keyboard.press("r" if number % 2 else "g")
            page.wait_for_selector(f"text=Question {number + 1} of 8" if number < 8 else "text=Thank you")
        assert "All 8 answers are saved" in page.content()
        page.goto(f"{base}/admin/{admin_token(db)}")
        assert "8 / 8" in page.locator("table").first.inner_text()
        results = page.locator("table").nth(1).inner_text()
        assert "all" in results and "±" in results
        page.screenshot(path=tmp_path / "study-admin.png", full_page=True)
    connection = sqlite3.connect(db)
    assert connection.execute("SELECT COUNT(*), SUM(picked) FROM picks").fetchone() == (8, 4)
    connection.close()


def test_an_expert_selects_images_by_click_and_by_key(page, manifests, tmp_path: Path):
    db, link = _study(manifests, tmp_path, "relevance", questions=2, per_question=8)
    port = free_port()
    with live_server(db, port):
        page.goto(f"http://127.0.0.1:{port}{link}")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Question 1 of 2")
        tiles = page.locator("label.tile")
        assert tiles.count() == 8
        assert all(tiles.nth(i).bounding_box()["height"] >= 230 for i in range(8))
        assert tiles.nth(7).bounding_box()["y"] + tiles.nth(7).bounding_box()["height"] <= LAPTOP["height"]
        tiles.nth(0).click()
        page.keyboard.press("3")
        page.keyboard.press("6")
        tiles.nth(0).click()
        chosen = [tiles.nth(i).locator("input").get_attribute("value") for i in (2, 5)]
        page.screenshot(path=tmp_path / "study-relevance.png")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Question 2 of 2")
    connection = sqlite3.connect(db)
    picked = [row[0] for row in connection.execute("SELECT image_id FROM picks WHERE picked = 1")]
    assert sorted(picked) == sorted(chosen)
    assert connection.execute("SELECT seconds FROM answers").fetchone()[0] > 0
    connection.close()
