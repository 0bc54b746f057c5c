"""``/alerts``: the gates' alerts as they arrive, newest first, acknowledged with a note.

The page keeps itself current by short polling (``static/office.js``): every 2 s it asks
``/api/v1/alerts/stamp``, which changes when an alert arrives or is acknowledged, and only then
fetches the list again (``/alerts/list``, the same filters). The acknowledgement is a plain form
post, so it works without the script; the API has the same under ``/api/v1/alerts``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from edge.console.page_kit import local_path
from sync.contract import AlertKind
from sync.office import alerts
from sync.office.accounts import Officer
from sync.office.alerts import AlertProblem, AlertView
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.forms import form_fields
from sync.office.page import PageRequest, PlainPageDep
from sync.office.templating import PageRoute, bad_request_page, templates

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["alerts"])
KINDS = tuple(kind.value for kind in AlertKind)
_API_STATUS = {"unknown": 404, "already": 409, "note": 422}


class PersonOut(BaseModel):
    holder: str = Field(description="Masked: the first character, then *.")
    household: str
    readings_c: list[float] = Field(
        validation_alias="readings", description="Body temperatures in °C, in order."
    )
    pass_id: str | None
    from_entry: bool = Field(description="Read from the fever's entry (else the alert's detail).")


class AlertOut(BaseModel):
    id: str
    community: str
    gate: str
    lane: str | None
    kind: str
    source_kind: str | None
    detail: str
    at: datetime
    received_at: datetime
    acknowledged_at: datetime | None = Field(validation_alias="acked_at")
    acknowledged_by: str | None = Field(validation_alias="acked_by")
    note: str | None
    person: PersonOut | None


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=alerts.MAX_NOTE_CHARS)


class StampOut(BaseModel):
    stamp: str = Field(description="Changes when an alert arrives or is acknowledged.")


def _out(view: AlertView) -> AlertOut:
    """The API's view of an alert: the same fields, by name (the view's ``acked_…`` and
    ``readings`` are the API's ``acknowledged_…`` and ``readings_c``)."""
    return AlertOut.model_validate(view, from_attributes=True)


@dataclass
class AlertFilters:
    """What the page, its list and the API show: all alerts or the open ones, of a kind, a
    community, a gate ("" each: any)."""

    state: Literal["open", "all"] = "all"
    kind: str = ""
    community: str = ""
    gate: str = ""


FiltersDep = Annotated[AlertFilters, Depends()]


def _listing(context: OfficeContext, officer: Officer, shown: AlertFilters) -> list[AlertView]:
    if shown.kind and shown.kind not in KINDS:
        raise HTTPException(422, f"no alert kind {shown.kind!r}")
    return alerts.listing(
        context.db,
        officer.scope(shown.community or None),
        only_open=shown.state == "open",
        kind=shown.kind or None,
        gate=shown.gate or None,
    )


@api.get("/alerts", response_model=list[AlertOut])
def alerts_api(
    officer: OfficerDep,
    context: ContextDep,
    state: Literal["open", "all"] = "all",
    kind: str | None = None,
    community: str | None = None,
    gate: str | None = None,
) -> list[AlertOut]:
    """The newest 100 alerts of the officer's communities (or of ``community``)."""
    shown = AlertFilters(state, kind or "", community or "", gate or "")
    return [_out(view) for view in _listing(context, officer, shown)]


@api.get("/alerts/stamp", response_model=StampOut)
def alerts_stamp(officer: OfficerDep, context: ContextDep) -> StampOut:
    return StampOut(stamp=alerts.stamp(context.db, officer.scope(None)))


@api.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertOut,
    responses={404: {"description": "No such alert here."}, 409: {"description": "Acked."}},
)
def acknowledge_api(
    alert_id: str, body: AckRequest, officer: OfficerDep, context: ContextDep
) -> AlertOut:
    """Acknowledge an alert with a note (audited); an alert is acknowledged once."""
    try:
        view = alerts.acknowledge(
            context.db, alert_id, officer=officer, note=body.note, now=context.now()
        )
    except AlertProblem as exc:
        raise HTTPException(_API_STATUS[exc.code], str(exc)) from exc
    return _out(view)


def _page_values(asked: PageRequest, shown: AlertFilters) -> dict[str, Any]:
    query = asdict(shown)
    communities = asked.officer.scope(None)
    return {
        "alerts": _listing(asked.context, asked.officer, shown),
        **query,
        "kinds": KINDS,
        "communities": communities,
        "back": f"/alerts?{urlencode({k: v for k, v in query.items() if v})}",
        "stamp": alerts.stamp(asked.context.db, communities),
    }


@pages.get("/alerts")
def alerts_page(asked: PlainPageDep, shown: FiltersDep) -> Response:
    if shown.kind and shown.kind not in KINDS:
        return bad_request_page(asked.request)
    return _alerts_page(asked, shown)


def _alerts_page(
    asked: PageRequest,
    shown: AlertFilters,
    *,
    problem: str | None = None,
    problem_id: str = "",
    status_code: int = 200,
) -> Response:
    return asked.page(
        "alerts.html",
        "nav.alerts",
        "/alerts",
        status_code=status_code,
        problem=problem,
        problem_id=problem_id,
        **_page_values(asked, shown),
    )


@pages.get("/alerts/list")
def alerts_fragment(asked: PlainPageDep, shown: FiltersDep) -> Response:
    """The list alone, for the page's script to put in place."""
    if shown.kind and shown.kind not in KINDS:
        return bad_request_page(asked.request)
    return templates.TemplateResponse(
        asked.request,
        "_alerts_list.html",
        {
            "lang": asked.lang,
            "zone": asked.context.zone,
            "now": asked.context.now(),
            "problem": None,
            "problem_id": "",
            **_page_values(asked, shown),
        },
        headers={"Cache-Control": "no-store"},
    )


@pages.post("/alerts/{alert_id}/ack")
async def acknowledge_form(alert_id: str, asked: PlainPageDep) -> Response:
    fields = await form_fields(asked.request)
    back = local_path(fields.get("back") or "/alerts")
    context = asked.context
    try:
        alerts.acknowledge(
            context.db,
            alert_id,
            officer=asked.officer,
            note=fields.get("note", ""),
            now=context.now(),
        )
    except AlertProblem as exc:
        return _alerts_page(
            asked,
            AlertFilters(),
            problem=f"alerts.problem.{exc.code}",
            problem_id=alert_id,
            status_code=_API_STATUS[exc.code],
        )
    return RedirectResponse(back, status_code=303)
