"""``/register``: the entry register across the officer's gates, searched by pass, household,
a resident's name, gate and time; newest first, a page at a time; CSV and XLSX exports;
``/api/v1/register``. Every search and export is audited (``register_searched``,
``register_exported``), one line per community it covered, before any entry is read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from sync.office import audit, register
from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from sync.office.page import PageDep, PageRequest
from sync.office.register import FilterError, Position, RegisterFilters, RegisterPage
from sync.office.routes.ledgers import Format, download, next_token
from sync.office.templating import PageRoute
from sync.receiver.db import Query

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["register"])

FIELDS = ("pass_id", "household", "name", "gate", "since", "until")


def audit_line(
    context: OfficeContext,
    officer: Officer,
    action: str,
    scope: Sequence[str],
    filters: RegisterFilters,
) -> register.AuditLine:
    """Writes who searched for what, one line per community searched."""

    def write(q: Query) -> None:
        now = context.now()
        for community in scope:
            audit.record(
                q,
                officer=officer,
                action=action,
                detail=filters.describe(),
                now=now,
                community=community,
            )

    return write


def _params(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FIELDS}


def _search(asked: PageRequest, after: str) -> RegisterPage:
    context = asked.context
    filters = register.filters_from(_params(asked.request), context.zone)
    scope = asked.scope
    return register.search(
        context.db,
        scope,
        filters,
        audit=audit_line(context, asked.officer, "register_searched", scope, filters),
        after=Position.parse(after),
    )


class RegisterRowOut(BaseModel):
    id: str
    community: str
    gate: str
    seq: int
    decided_at: datetime
    lane: str
    direction: str
    outcome: str
    pass_id: str | None
    pass_kind: str | None
    holder: str | None
    """Masked."""
    household: str | None
    readings_c: list[float]
    reasons: list[str]


class RegisterOut(BaseModel):
    rows: list[RegisterRowOut]
    next: str | None
    """Give it as ``after`` for the next (older) page."""


@api.get("/register", response_model=RegisterOut)
def register_api(asked: PageDep, after: str = "") -> RegisterOut:
    zone = asked.context.zone
    try:
        page = _search(asked, after)
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=f"{exc.field}: {exc.code}") from exc
    return RegisterOut(
        rows=[
            RegisterRowOut(
                id=row.id,
                community=row.community,
                gate=row.gate,
                seq=row.ledger.seq,
                decided_at=datetime.fromtimestamp(row.ledger.decided_at_us / 1_000_000, zone),
                lane=row.ledger.lane,
                direction=row.ledger.direction,
                outcome=row.ledger.outcome,
                pass_id=row.ledger.pass_id,
                pass_kind=row.ledger.pass_kind,
                holder=row.ledger.holder,
                household=row.ledger.household,
                readings_c=[t.body_c for t in row.ledger.temperatures],
                reasons=list(row.ledger.reasons),
            )
            for row in page.rows
        ],
        next=next_token(page),
    )


def _register_page(
    asked: PageRequest,
    *,
    page: RegisterPage | None = None,
    error: FilterError | None = None,
) -> Response:
    """The register's form with what was asked; ``page`` the rows found, ``error`` a filter
    it could not take (400, said at its field)."""
    rows = [] if page is None else page.rows
    return asked.page(
        "register.html",
        "register.title",
        "/register",
        error=error,
        params=_params(asked.request),
        searched=page is not None,
        rows=rows,
        entries=list(zip(rows, register.cells(rows, asked.context.zone), strict=True)),
        no_resident=page is not None and not page.households_found,
        next=next_token(page),
    )


@pages.get("/register")
def register_page(asked: PageDep, after: str = "") -> Response:
    if not any(_params(asked.request).values()):
        return _register_page(asked)
    try:
        page = _search(asked, after)
    except FilterError as exc:
        return _register_page(asked, error=exc)
    return _register_page(asked, page=page)


@pages.get("/register/export.{fmt}")
def register_export(asked: PageDep, fmt: Format) -> Response:
    context = asked.context
    try:
        filters = register.filters_from(_params(asked.request), context.zone)
    except FilterError as exc:
        return _register_page(asked, error=exc)
    scope = asked.scope
    headings, rows = register.export(
        context.db,
        scope,
        filters,
        context.zone,
        audit=audit_line(context, asked.officer, "register_exported", scope, filters),
    )
    return download(context, fmt, "register", "出入人员登记表", headings, rows)
