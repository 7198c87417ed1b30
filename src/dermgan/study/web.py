"""What the participant and admin pages share: the study being served, its database, page rendering."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dermgan.study.participants import TOKEN_PATTERN
from dermgan.study.store import StudyMeta

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def clock(seconds: float | None) -> str:
    """A stored time (seconds since the epoch) as the server's local date and minute; "-" for none."""
    return "-" if seconds is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


templates.env.filters["clock"] = clock
Token = Annotated[str, PathParameter(pattern=TOKEN_PATTERN)]


@dataclass(frozen=True)
class ServedStudy:
    """The study being served and the app's one connection to it.

    Handlers are async and call SQLite directly: a query takes well under a millisecond (a durable commit
    a few), and as no handler awaits inside a transaction, requests never interleave in one. That is
    the one writer SQLite allows anyway, without handing each request to a thread.
    """

    path: Path
    meta: StudyMeta
    n_questions: int
    connection: sqlite3.Connection


async def served(request: Request) -> ServedStudy:
    return request.app.state.study


async def database(request: Request) -> sqlite3.Connection:
    return request.app.state.study.connection


Database = Annotated[sqlite3.Connection, Depends(database)]
Study = Annotated[ServedStudy, Depends(served)]


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """The page `template` with `context`; templates see the HTTP status as `status_code`."""
    page = {"status_code": status, **context}
    return templates.TemplateResponse(request, template, page, status_code=status)


def not_found() -> HTTPException:
    """Every refusal of an unknown token, page or image looks the same, so none can be probed."""
    return HTTPException(404, "Not found. Check that you opened the whole link you were sent.")
