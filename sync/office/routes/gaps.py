"""``/gaps``: which gate owes which sequence numbers (``ReceiverDb.gaps``), and ``/api/v1/gaps``.

Every gate numbers its entries 1, 2, 3… without gaps, so the office can prove it has them all:
a number missing inside what arrived, or beyond the highest that arrived up to what the gate's
status says it issued, is an entry still on the way (or lost, if it never comes).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from sync.office.accounts import Officer
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.page import PageDep
from sync.office.templating import PageRoute
from sync.receiver.db import LogGaps

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["gaps"])


class GapsOut(BaseModel):
    community: str
    gate: str
    log_id: str
    contiguous_seq: int = Field(description="Every seq up to this one is stored.")
    max_seq: int
    missing: list[tuple[int, int]] = Field(description="Missing seq ranges, both ends included.")
    unreceived: tuple[int, int] | None = Field(
        description="Seqs the gate reported issuing that have not arrived."
    )
    missing_count: int


def _gaps(context: OfficeContext, officer: Officer, community: str | None) -> list[LogGaps]:
    communities = set(officer.scope(community or None))
    return [log for log in context.db.gaps() if log.community in communities]


@api.get("/gaps", response_model=list[GapsOut])
def gaps_api(
    officer: OfficerDep, context: ContextDep, community: str | None = None
) -> list[GapsOut]:
    return [
        GapsOut.model_validate(log, from_attributes=True)
        for log in _gaps(context, officer, community)
    ]


@pages.get("/gaps")
def gaps_page(asked: PageDep) -> Response:
    found = _gaps(asked.context, asked.officer, asked.community)
    owing = [log for log in found if log.missing or log.unreceived]
    return asked.page(
        "gaps.html",
        "nav.gaps",
        "/gaps",
        logs=sorted(
            found, key=lambda log: (not (log.missing or log.unreceived), log.community, log.gate)
        ),
        owing=len(owing),
    )
