"""Builds the console's FastAPI app from the running gate's parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

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

API_VERSION = "v1"
STATIC_DIR = Path(__file__).parent / "static"


def create_app(context: ConsoleContext) -> FastAPI:
    hub = LiveHub(context.now)

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
