"""The largest request body the console reads: anything bigger is refused with 413.

Plain ASGI in front of every route, so no handler (nor FastAPI's body parsing) ever holds more
than ``max_bytes`` of a request: four 200 MB bodies to the open sign-in once took the gate from
414 MB to 2.6 GB. A declared Content-Length over the limit is refused before a byte is read; a
chunked body (no length) is counted as it streams in and refused once it passes the limit.

The API (``/api/…``) gets JSON; a person posting a page's form (a roster upload without its
script) gets a page in their language, when the console gives ``BodyLimit`` one (``page``).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/"

TooLargePage = Callable[[Request, int], Response]
"""Makes the page a person is shown for a body over the limit (``max_bytes``), status 413."""


class BodyTooLarge(Exception):  # noqa: N818  (named for the condition)
    """Raised into the app when the body passes the limit: it stops reading there."""


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int, page: TooLargePage | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.page = page

    def _refusal(self, scope: Scope) -> Response:
        if self.page is not None and not scope["path"].startswith(API_PREFIX):
            refusal = self.page(Request(scope), self.max_bytes)
        else:
            refusal = JSONResponse(
                {"detail": f"request body too large (at most {self.max_bytes} bytes)"},
                status_code=413,
            )
        refusal.headers["Connection"] = "close"
        return refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refusal(scope)(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started:
                        await self._refusal(scope)(scope, receive, send)
                    refused = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the app's own answer to the aborted read: the 413 went instead
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:  # the app's own failure, not our abort of its read
                raise
