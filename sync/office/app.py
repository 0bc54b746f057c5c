"""Builds the office console's FastAPI app, and serves it beside the receiver.

The gate console's web plumbing, reused as is: the body limit (413 unread), the host allow-list
(DNS rebinding), the client networks (403), and the security headers (a CSP allowing only this
server's scripts, styles and connections; no framing). Every asset comes from the office itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge.console.app import console_app
from edge.console.serving import WebServer, serve_in_thread
from edge.console.throttle import SignInLimits
from sync.office import retention
from sync.office.context import OfficeContext
from sync.office.routes import ROUTERS, SCHEMAS
from sync.office.templating import message_page, too_large_page
from sync.receiver.db import ReceiverDb
from sync.receiver.service import open_database
from sync.settings import ServerSettings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/"
_PAGE_ERRORS = {
    403: ("page.forbidden", "page.forbidden_text"),
    404: ("page.not_found", "page.bad_request_text"),
}


async def _page_errors(request: Request, exc: Exception) -> Response:
    """A person reading a page gets a page: 401 → the sign-in form (and back here after), 403
    and 404 → a page saying so. The API under /api/ keeps FastAPI's JSON answers."""
    assert isinstance(exc, StarletteHTTPException)
    if not request.url.path.startswith(API_PREFIX):
        if exc.status_code == 401:
            here = request.url.path if request.method == "GET" else "/"
            if request.method == "GET" and request.url.query:
                here += f"?{request.url.query}"
            return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)
        if exc.status_code in _PAGE_ERRORS:
            title, text_id = _PAGE_ERRORS[exc.status_code]
            return message_page(request, title, text_id, status_code=exc.status_code)
    return await http_exception_handler(request, exc)


def ensure_schemas(db: ReceiverDb) -> None:
    """Make the office's tables (every module's) where they are missing."""
    for ensure_schema in SCHEMAS:
        ensure_schema(db)


def create_office_app(context: OfficeContext) -> FastAPI:
    """The office console over ``context``; its tables are made here if they are missing."""
    ensure_schemas(context.db)
    office = context.office
    sign_in_limits = SignInLimits.new()
    app = console_app(
        "Kakou community office",
        "The office's JSON API: gates, alerts, gaps, households, passes, reports.",
        office,
        too_large_page,
    )
    app.add_exception_handler(StarletteHTTPException, _page_errors)
    app.state.office = context
    app.state.sign_in_limits = sign_in_limits
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# ------------------------------------------------------------------------------- serving


def serve_office(context: OfficeContext) -> WebServer:
    """Start the console on ``[office] host:port``; raises ``OSError`` if it cannot listen."""
    return serve_in_thread(
        create_office_app(context),
        context.office,
        name="office console",
        timeout_graceful_shutdown=2,
    )


def start_office(settings: ServerSettings) -> Callable[[], None]:
    """Serve the office console on a database connection of its own (pages never wait for
    the receiver's transactions on a shared one), and prune entries daily past
    ``[office] retention_days``; returns how to stop both."""
    db = open_database(settings.database, receiver=settings.receiver.name)
    try:
        served = serve_office(OfficeContext(db=db, settings=settings))
    except BaseException:
        db.close()
        raise
    stop_retention = retention.start_daily(db, settings)

    def stop() -> None:
        stop_retention()
        served.stop()
        db.close()

    return stop
