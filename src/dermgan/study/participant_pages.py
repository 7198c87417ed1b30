"""The participant's pages: consent and instructions, one question per screen, a thank-you page.

Every write is a POST answered by a redirect to the participant's page (post/redirect/get), so a reload
never sends an answer twice, and the page always shows the first unanswered question.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, RedirectResponse

from dermgan.study.create import IMAGE_ID_PATTERN
from dermgan.study.encode import MEDIA_TYPE
from dermgan.study.participants import Participant, find_participant
from dermgan.study.security import check_csrf
from dermgan.study.session import consent, mark_shown, record_answer, screens
from dermgan.study.web import Database, Study, Token, not_found, render

router = APIRouter()
ImageId = Annotated[str, PathParameter(pattern=IMAGE_ID_PATTERN)]
Csrf = Annotated[str, Form(max_length=64)]


def _participant(connection: Database, token: str) -> Participant:
    participant = find_participant(connection, token)
    if participant is None:
        raise not_found()
    return participant


def _home(request: Request, token: str) -> RedirectResponse:
    return RedirectResponse(request.app.url_path_for("participant_page", token=token), status_code=303)


@router.get("/p/{token}", response_class=HTMLResponse)
async def participant_page(request: Request, token: Token, connection: Database, study: Study) -> Response:
    participant = _participant(connection, token)
    common = {"participant": participant, "kind": study.meta.kind, "total": study.n_questions}
    if participant.consented_at is None:
        return render(request, "consent.html", **common)
    upcoming = screens(connection, participant)
    if not upcoming:
        return render(request, "done.html", **common)
    mark_shown(connection, participant, upcoming[0])
    preload = [image for screen in upcoming[1:] for image in screen.image_ids]
    return render(request, f"{study.meta.kind}.html", screen=upcoming[0], preload=preload, **common)


@router.post("/p/{token}/consent")
async def agree(request: Request, token: Token, csrf: Csrf, connection: Database) -> Response:
    participant = _participant(connection, token)
    check_csrf(participant.csrf, csrf)
    consent(connection, participant)
    return _home(request, token)


@router.post("/p/{token}/answer")
async def answer(
    request: Request,
    token: Token,
    csrf: Csrf,
    question: Annotated[int, Form(ge=1, le=1_000_000)],
    connection: Database,
    picked: Annotated[list[str] | None, Form()] = None,
) -> Response:
    participant = _participant(connection, token)
    check_csrf(participant.csrf, csrf)
    record_answer(connection, participant, question, picked or [])
    return _home(request, token)


@router.get("/p/{token}/image/{image_id}")
async def image(token: Token, image_id: ImageId, connection: Database) -> Response:
    """An image of one of the participant's questions, under its opaque id only."""
    participant = _participant(connection, token)
    row = connection.execute(
        "SELECT i.data FROM images i JOIN question_images q ON q.image_id = i.id "
        "JOIN schedule s ON s.question_id = q.question_id WHERE s.participant_id = ? AND i.id = ?",
        (participant.id, image_id),
    ).fetchone()
    if row is None:
        raise not_found()
    return Response(row["data"], media_type=MEDIA_TYPE, headers={"Cache-Control": "private, max-age=86400"})
