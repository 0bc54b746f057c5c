"""The registration pages: the visitor and vehicle forms, the recent list, one pass to show.

The forms post JSON to the API (static/registration.js) so the page can put each refused
field's message next to that field; phone and ID numbers are shown masked everywhere. The
markup is in ``templates/visitors.html`` and ``templates/pass.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from edge.console.auth import MaybeGuardDep
from edge.console.deps import ContextDep
from edge.console.routes.pages import need_sign_in, render
from edge.identity import mask_id_number, mask_phone
from edge.store.registrations import Registration
from edge.visitors import display_number

router = APIRouter(include_in_schema=False)
ASSETS = ("registration.css", "registration.js")
RECENT = 30
VISIT_REASONS = ("family", "delivery", "repair", "housekeeping", "medical", "other")
"""The reason field's suggestions (``visit_reason.*`` in the catalogue)."""


@dataclass(frozen=True)
class DeskView:
    max_hours: str
    default_hours: str


@dataclass(frozen=True)
class RecentRow:
    id: str
    registered: str
    kind: str
    plate: str
    name: str
    others: int
    phone: str
    id_number: str
    household: str
    reason: str
    valid_until: str
    revoked: bool


@dataclass(frozen=True)
class PersonView:
    name: str
    phone: str
    id_number: str


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def _person(name: str, phone: str | None, id_number: str | None) -> PersonView:
    return PersonView(
        name,
        display_number(phone, mask_phone),
        display_number(id_number, mask_id_number) if id_number else "",
    )


@router.get("/visitors")
def visitors_page(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    if guard is None:
        return need_sign_in(request)
    desk = context.desk
    if desk is None:
        return render(
            request, "visitors.html", "visitors.title", guard=guard, current="/visitors", desk=None
        )
    zone = context.zone
    revoked = context.store.revoked_ids()
    recent = []
    for r in desk.book.recent(limit=RECENT):
        first = r.people[0]
        recent.append(
            RecentRow(
                id=r.id,
                registered=_when(r.registered_at, zone),
                kind=r.kind,
                plate=r.plate or "",
                name=first.name,
                others=len(r.people) - 1,
                phone=display_number(first.phone, mask_phone),
                id_number=display_number(first.id_number, mask_id_number),
                household=r.host_household,
                reason=r.reason,
                valid_until=_when(r.valid_until, zone),
                revoked=r.pass_id in revoked,
            )
        )
    return render(
        request,
        "visitors.html",
        "visitors.title",
        guard=guard,
        current="/visitors",
        assets=ASSETS,
        desk=DeskView(f"{desk.max_hours:g}", f"{desk.settings.default_hours:g}"),
        lanes=list(context.lanes),
        visit_reasons=VISIT_REASONS,
        recent=recent,
    )


@router.get("/visitors/{registration_id}")
def pass_page(
    registration_id: str, request: Request, context: ContextDep, guard: MaybeGuardDep
) -> Response:
    if guard is None:
        return need_sign_in(request)
    found: Registration | None = (
        context.desk.book.get(registration_id) if context.desk is not None else None
    )
    if found is None:
        raise HTTPException(status_code=404, detail="no such registration")
    zone = context.zone
    return render(
        request,
        "pass.html",
        "pass.title",
        guard=guard,
        current="/visitors",
        assets=ASSETS,
        registration=found,
        revoked=found.pass_id in context.store.revoked_ids(),
        valid_from=_when(found.valid_from, zone),
        valid_until=_when(found.valid_until, zone),
        people=[_person(p.name, p.phone, p.id_number) for p in found.people],
        lanes=list(context.lanes),
    )
