"""What every response carries and every form must prove: strict headers, a same-origin POST, a CSRF token.

Pages load nothing from other sites (Content-Security-Policy), are never framed, never cached, and send a
Referer to their own site only, so a personal link in the address bar does not travel anywhere else.
(With no Referer at all, browsers send `Origin: null` on form posts, which the cross-site check refuses.)
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXPIRED = "This form is out of date. Go back, reload the page and try again."


def check_csrf(expected: str, given: str) -> None:
    """The form's hidden token must be the one its page was rendered with (constant-time compare)."""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise HTTPException(403, EXPIRED)


def cross_site(method: str, headers: Headers) -> bool:
    """A browser says where a write comes from (Origin, Sec-Fetch-Site): refuse another site's."""
    if method not in UNSAFE_METHODS:
        return False
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != headers.get("host")


class Guard:
    """ASGI middleware: refuses cross-site writes, then adds the security headers to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(HEADERS)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        if cross_site(scope["method"], Headers(scope=scope)):
            refusal = PlainTextResponse("Cross-site requests are refused.", status_code=403)
            await refusal(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
