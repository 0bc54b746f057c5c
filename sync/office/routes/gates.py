"""``/``: every gate of the officer's communities at a glance, problems first; ``/api/v1/gates``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from sync.office import gates
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep
from sync.office.page import PageDep
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["gates"])


class GateOut(BaseModel):
    community: str
    gate: str
    state: str = Field(description="online, offline, stale (no status for 5 min) or unknown.")
    status_at: datetime | None
    backlog: int | None
    last_seq: int | None
    last_entry_at: datetime | None
    clock_offset_s: float | None
    clock_synced: bool | None
    revocations_version: int | None
    revocations_age_s: float | None
    disk_used_fraction: float | None
    software: str | None
    alarms: dict[str, int] = Field(description="Open device alarms by kind.")
    fevers: int = Field(description="Open fever alerts.")
    problems: list[str] = Field(description="Most serious first: offline, stale, fevers, …")


@api.get("/gates", response_model=list[GateOut])
def gates_api(
    officer: OfficerDep, context: ContextDep, community: str | None = None
) -> list[GateOut]:
    """Every gate of the officer's communities (or of ``community``), problems first."""
    found = gates.at_a_glance(context.db, officer.scope(community), context.now())
    return [GateOut.model_validate(view, from_attributes=True) for view in found]


@pages.get("/")
def gates_page(asked: PageDep) -> Response:
    found = gates.at_a_glance(asked.context.db, asked.scope, asked.context.now())
    return asked.page(
        "gates.html",
        "nav.gates",
        "/",
        gates=found,
        problems=sum(1 for view in found if view.problems),
    )
