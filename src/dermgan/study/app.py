"""The study web app: participant and admin pages over one study database; nothing else answers.

No API docs, no directory listings, no file paths: images are read from the database by opaque id.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from dermgan.study import admin_pages, participant_pages
from dermgan.study.participants import TOKEN_PATTERN
from dermgan.study.security import Guard
from dermgan.study.session import Refused
from dermgan.study.store import connect, read_meta
from dermgan.study.web import HERE, ServedStudy, not_found, render

BAD_FORM = "The answer was not filled in as expected; go back and try again."


def make_app(study: str | os.PathLike[str]) -> FastAPI:
    """The app for one study file (checked now, so a wrong path fails before the server starts)."""
    connection = connect(study)
    served = ServedStudy(
        path=Path(study),
        meta=read_meta(connection),
        n_questions=connection.execute("SELECT COUNT(*) FROM questions").fetchone()[0],
        connection=connection,
    )
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.study = served
    app.add_middleware(Guard)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(participant_pages.router)
    app.include_router(admin_pages.router)

    @app.get("/", response_class=HTMLResponse)
    def start(request: Request) -> HTMLResponse:
        return render(request, "start.html")

    @app.exception_handler(HTTPException)
    def refused_by_http(request: Request, error: HTTPException) -> HTMLResponse:
        home = None if error.status_code == 404 else _home(request)
        return render(request, "error.html", error.status_code, message=error.detail, home=home)

    @app.exception_handler(Refused)
    def refused_answer(request: Request, error: Refused) -> HTMLResponse:
        return render(request, "error.html", error.status, message=error.message, home=_home(request))

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, error: RequestValidationError) -> HTMLResponse:
        """A malformed token or image id is simply not found; a malformed form is a bad request."""
        if any(problem["loc"][0] == "path" for problem in error.errors()):
            return render(request, "error.html", 404, message=not_found().detail)
        return render(request, "error.html", 400, message=BAD_FORM, home=_home(request))

    return app


def _home(request: Request) -> str | None:
    """The page a refused form came from (the participant's question or the admin page), to go back to."""
    token = request.path_params.get("token")
    if token is None or not re.match(TOKEN_PATTERN, token):
        return None
    page = "admin_page" if request.url.path.startswith("/admin/") else "participant_page"
    return request.app.url_path_for(page, token=token)
