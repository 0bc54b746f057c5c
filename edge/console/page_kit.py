"""What a console's pages need whatever they show: the language a person chose, a safe place
to go back to, sizes in words, and a page (never FastAPI's JSON) for a query the route cannot
take.

The gate console (``edge.console.routes.pages``) and the office console
(``sync.office.templating``) each name their own language cookie and bad-request page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

LANG_COOKIE_AGE_S = 365 * 24 * 3600


def local_path(next: str | None) -> str:
    """``next`` if it is a path on this console, else ``/``: never an address elsewhere.

    Browsers read ``//evil`` and ``/\\evil`` as another host, and drop tabs and line breaks
    first (``/\\t/evil`` is ``//evil``), so a backslash or any control character or space
    anywhere refuses it, as does a second leading slash."""
    if not next or not next.startswith("/") or next.startswith("//"):
        return "/"
    if "\\" in next or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in next):
        return "/"
    parts = urlsplit(next)
    return "/" if parts.scheme or parts.netloc else next


def back_from(request: Request) -> str:
    """Where a page refusing ``request`` sends a person back to: the page itself when it was
    asked for, the page whose form it was when posted (each form posts under its page's path:
    ``/households/import`` → ``/households``)."""
    path = local_path(request.url.path)
    if request.method in ("GET", "HEAD"):
        return path
    return "/" + path.strip("/").split("/")[0]


def size_text(n: int) -> str:
    """A byte count for people: ``64.0 KiB``, ``4.0 MiB``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@dataclass(frozen=True, slots=True)
class LanguageCookie:
    """The language a device asked for, kept in the cookie ``name``: Chinese unless "en"."""

    name: str

    def of(self, request: Request) -> str:
        return "en" if request.cookies.get(self.name) == "en" else "zh"

    def switch(
        self, request: Request, to: Literal["zh", "en"], next: str | None
    ) -> RedirectResponse:
        """Remember ``to`` on this device for a year, and go back to ``next`` (a path on this
        console only: never an address elsewhere)."""
        response = RedirectResponse(local_path(next), status_code=303)
        response.set_cookie(
            self.name,
            to,
            max_age=LANG_COOKIE_AGE_S,
            path="/",
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response


def page_route(bad_request: Callable[[Request], Response]) -> type[APIRoute]:
    """A route class for pages: a query the route cannot take is answered by
    ``bad_request(request)`` (a page saying so), never FastAPI's JSON 422 (people read pages;
    the API under /api/v1 keeps its JSON errors)."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def page_handler(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError:
                    return bad_request(request)

            return page_handler

    return PageRoute
