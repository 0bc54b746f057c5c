"""Builds the console's FastAPI app from the running gate's parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.console.deps import ConsoleContext
from edge.console.live import LiveHub
from edge.console.routes import (
    auth,
    entries,
    health,
    lanes,
    ledgers,
    live,
    metrics,
    pages,
    sim,
    visitors,
)
from edge.store.alarms import AlarmBook

API_VERSION = "v1"
STATIC_DIR = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP response.

    The policy allows only the gate's own scripts, stylesheets and connections: injected markup
    (a name in a pass, say) cannot run a script, and no other site may frame the console. Plain
    ASGI rather than ``BaseHTTPMiddleware``: that one runs the endpoint in a task of its own and
    is known to get in the way of streaming responses like the live SSE stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(context: ConsoleContext) -> FastAPI:
    hub = LiveHub(context.now, AlarmBook(context.store))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context.bus is not None:
            hub.attach(context.bus)
        try:
            yield
        finally:
            hub.detach()

    app = FastAPI(
        title="Kakou checkpoint console",
        version="1.0.0",
        description="The gate's JSON API: lanes, guard actions, the entry log and health.",
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    app.state.context = context
    app.state.hub = hub
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(lanes.router)
    app.include_router(entries.router)
    app.include_router(ledgers.router)
    app.include_router(live.router)
    app.include_router(metrics.router)
    app.include_router(visitors.router)
    if context.simulation is not None:
        app.include_router(sim.router)
    app.include_router(pages.router)
    # Every asset is served from the gate itself: the guard post often has no internet.
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app
