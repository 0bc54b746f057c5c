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
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.register import FilterError, Position, RegisterFilters, RegisterPage
from sync.office.routes.ledgers import Format, download
from sync.office.templating import PageRoute, render
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


def _search(
    request: Request, officer: Officer, context: OfficeContext, community: str, after: str
) -> tuple[RegisterFilters, RegisterPage]:
    filters = register.filters_from(_params(request), context.zone)
    scope = officer.scope(community or None)
    page = register.search(
        context.db,
        scope,
        filters,
        audit=audit_line(context, officer, "register_searched", scope, filters),
        after=Position.parse(after),
    )
    return filters, page


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
def register_api(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    community: str = "",
    after: str = "",
) -> RegisterOut:
    try:
        _, page = _search(request, officer, context, community, after)
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=f"{exc.field}: {exc.code}") from exc
    return RegisterOut(
        rows=[
            RegisterRowOut(
                id=row.id,
                community=row.community,
                gate=row.gate,
                seq=row.ledger.seq,
                decided_at=datetime.fromtimestamp(
                    row.ledger.decided_at_us / 1_000_000, context.zone
                ),
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
        next=None if page.next is None else page.next.token(),
    )


def _register_page(
    request: Request,
    officer: Officer,
    context: OfficeContext,
    community: str,
    *,
    page: RegisterPage | None = None,
    error: FilterError | None = None,
) -> Response:
    """The register's form with what was asked; ``page`` the rows found, ``error`` a filter
    it could not take (400, said at its field)."""
    params = _params(request)
    rows = [] if page is None else page.rows
    return render(
        request,
        "register.html",
        "register.title",
        officer=officer,
        current="/register",
        status_code=400 if error else 200,
        error=error,
        params=params,
        searched=page is not None,
        rows=rows,
        cells=list(register.cells(rows, context.zone)),
        no_resident=page is not None and not page.households_found,
        next=None if page is None or page.next is None else page.next.token(),
        community=community,
        communities=officer.scope(None),
    )


@pages.get("/register")
def register_page(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    community: str = "",
    after: str = "",
) -> Response:
    if not any(_params(request).values()):
        return _register_page(request, officer, context, community)
    try:
        _, page = _search(request, officer, context, community, after)
    except FilterError as exc:
        return _register_page(request, officer, context, community, error=exc)
    return _register_page(request, officer, context, community, page=page)


@pages.get("/register/export.{fmt}")
def register_export(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    fmt: Format,
    community: str = "",
) -> Response:
    try:
        filters = register.filters_from(_params(request), context.zone)
    except FilterError as exc:
        return _register_page(request, officer, context, community, error=exc)
    scope = officer.scope(community or None)
    headings, rows = register.export(
        context.db,
        scope,
        filters,
        context.zone,
        audit=audit_line(context, officer, "register_exported", scope, filters),
    )
    return download(context, fmt, "register", "出入人员登记表", headings, rows)
