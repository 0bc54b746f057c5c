"""Builds the console's FastAPI app from the running gate's parts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send, StatelessLifespan

from drivers.threads import Periodic
from edge.console.clients import ClientAllowList, networks
from edge.console.deps import ConsoleContext
from edge.console.hosts import HostAllowList, known_names
from edge.console.hub import LiveHub
from edge.console.limits import BodyLimit, TooLargePage
from edge.console.routes import (
    accounts,
    auth,
    certificate,
    entries,
    health,
    icon,
    lanes,
    ledgers,
    live,
    metrics,
    pages,
    sim,
    visitors,
)
from edge.console.routes.live import StreamSlots
from edge.console.settings import ConsoleSettings
from edge.console.throttle import SignInLimits
from edge.console.work import BoundedWork
from edge.store.alarms import AlarmBook

log = logging.getLogger(__name__)

API_VERSION = "v1"
ALARM_WATCH_S = 2.0  # how soon an alarm the store could not take is written once it can
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


class WebSettings(Protocol):
    """What the plumbing in front of a console's routes is set from (``[console]``, or the
    office's ``[office]``)."""

    @property
    def host(self) -> str: ...

    @property
    def allowed_hosts(self) -> Sequence[str]: ...

    @property
    def allowed_clients(self) -> Sequence[str]: ...

    @property
    def max_body_bytes(self) -> int: ...


def guard_requests(app: FastAPI, settings: WebSettings, too_large_page: TooLargePage) -> None:
    """Puts in front of every route: the security headers, the client networks (403; none
    given: a loopback listener, reachable from here only), the host names (400: DNS
    rebinding) and the body limit (413 unread; ``too_large_page`` for a person's form)."""
    # The last added runs first: headers on every answer, then the client and host checks,
    # then the body.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, page=too_large_page)
    app.add_middleware(HostAllowList, names=known_names(settings.allowed_hosts, settings.host))
    if settings.allowed_clients:
        app.add_middleware(ClientAllowList, allowed=networks(settings.allowed_clients))
    app.add_middleware(SecurityHeaders)


_API_DESCRIPTION: dict[str, Any] = {"version": "1.0.0", "docs_url": None, "redoc_url": None}
"""Only /openapi.json: Swagger UI and ReDoc load from a CDN, which a console may not reach and
its CSP refuses."""


def console_app(
    title: str,
    description: str,
    settings: WebSettings,
    too_large_page: TooLargePage,
    lifespan: StatelessLifespan[FastAPI] | None = None,
) -> FastAPI:
    """A console's app, its requests guarded (:func:`guard_requests`)."""
    app = FastAPI(title=title, description=description, lifespan=lifespan, **_API_DESCRIPTION)
    guard_requests(app, settings, too_large_page)
    return app


def create_app(context: ConsoleContext, settings: ConsoleSettings | None = None) -> FastAPI:
    """The console for ``context``; ``settings`` ([console]) sets its limits and host names."""
    settings = ConsoleSettings() if settings is None else settings
    hub = LiveHub(context.now, AlarmBook(context.store))
    sign_in_limits = SignInLimits.new()
    stream_work = BoundedWork(2, settings.max_streams, "live")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context.bus is not None:
            hub.attach(context.bus)
        # Alarms the store could not take when they were raised are written whether or not a
        # browser is open (edge.health raises device and sync alarms on the bus), on a thread
        # of its own: a crowd of requests on the shared pool cannot hold an alarm back.
        watcher = Periodic("alarm-watch", lambda: live.refresh_alarms(context, hub), ALARM_WATCH_S)
        watcher.start()
        try:
            yield
        finally:
            watcher.stop()
            hub.detach()
            sign_in_limits.work.close()
            stream_work.close()

    app = console_app(
        "Kakou checkpoint console",
        "The gate's JSON API: lanes, guard actions, the entry log and health.",
        settings,
        pages.too_large_page,
        lifespan,
    )
    app.state.context = context
    app.state.hub = hub
    app.state.sign_in_limits = sign_in_limits
    app.state.console_settings = settings
    app.state.stream_work = stream_work
    app.state.stream_slots = StreamSlots(settings.max_streams, settings.max_streams_per_client)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(accounts.router)
    app.include_router(icon.router)
    app.include_router(certificate.router)
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
