"""Builds the console's FastAPI app from the running gate's parts."""

from __future__ import annotations

from fastapi import FastAPI

from edge.console.deps import ConsoleContext
from edge.console.routes import entries, health, lanes, sim

API_VERSION = "v1"


def create_app(context: ConsoleContext) -> FastAPI:
    app = FastAPI(
        title="Kakou checkpoint console",
        version="1.0.0",
        description="The gate's JSON API: lanes, guard actions, the entry log and health.",
    )
    app.state.context = context
    app.include_router(health.router)
    app.include_router(lanes.router)
    app.include_router(entries.router)
    if context.simulation is not None:
        app.include_router(sim.router)
    return app
