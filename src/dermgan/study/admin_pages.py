"""The admin page: each participant's progress and personal link, the scores so far, adding participants."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from dermgan.study.participants import add_participants
from dermgan.study.scoring import RATE_LABELS, score
from dermgan.study.security import check_csrf
from dermgan.study.web import Database, ServedStudy, Study, Token, not_found, render

router = APIRouter()


def _check_admin(study: ServedStudy, token: str) -> None:
    if not hmac.compare_digest(study.meta.admin_token.encode(), token.encode()):
        raise not_found()


@router.get("/admin/{token}", response_class=HTMLResponse)
async def admin_page(request: Request, token: Token, connection: Database, study: Study) -> Response:
    _check_admin(study, token)
    results = score(connection, study.path.name)
    base = str(request.base_url).rstrip("/")
    links = {
        row["name"]: base + request.app.url_path_for("participant_page", token=row["token"])
        for row in connection.execute("SELECT name, token FROM participants")
    }
    return render(
        request, "admin.html", study=study, results=results, links=links, labels=RATE_LABELS[results.kind]
    )


@router.post("/admin/{token}/participants")
async def add(
    request: Request,
    token: Token,
    csrf: Annotated[str, Form(max_length=64)],
    count: Annotated[int, Form(ge=1, le=100)],
    connection: Database,
    study: Study,
) -> Response:
    _check_admin(study, token)
    check_csrf(study.meta.admin_csrf, csrf)
    add_participants(connection, count, study.meta.seed)
    return RedirectResponse(request.app.url_path_for("admin_page", token=token), status_code=303)
