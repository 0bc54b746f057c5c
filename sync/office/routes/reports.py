"""``/reports``: the daily report (日报) per gate, or rolled up per building, grid or compound,
for one office day; its CSV and XLSX exports; ``/api/v1/reports/daily``. Also the download
helper the fever ledger's and the register's exports share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from edge.console.ledgers import Cells, csv_chunks, xlsx_chunks
from sync.office import reports
from sync.office.accounts import Officer
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.templating import PageRoute, bad_request_page, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["reports"])

View = Literal["gate", "building", "grid", "compound"]
VIEWS: tuple[View, ...] = ("gate", *reports.LEVELS)
Format = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    context: OfficeContext,
    fmt: Format,
    name: str,
    title: str,
    headings: Sequence[str],
    rows: Iterable[Cells],
) -> StreamingResponse:
    """A streamed CSV (UTF-8 with a BOM) or XLSX named ``kakou-<name>-<office time>``."""
    stamp = context.now().astimezone(context.zone).strftime("%Y%m%d-%H%M")
    headers = {
        "Content-Disposition": f'attachment; filename="kakou-{name}-{stamp}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return StreamingResponse(
            csv_chunks(headings, rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    return StreamingResponse(
        xlsx_chunks(title, headings, rows), media_type=XLSX_TYPE, headers=headers
    )


def office_day(context: OfficeContext, text: str | None) -> date | None:
    """The day asked for (``YYYY-MM-DD``), today in the office's zone when none; None when
    it is not a day."""
    if not text:
        return context.now().astimezone(context.zone).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class CountsOut(BaseModel):
    community: str
    group: str | None
    """The gate, building, grid or compound; null: households not in the roster."""
    total: int
    passed: int
    overridden: int
    denied: int
    fevers: int
    abandoned: int
    visitors: int
    clock_unsynced: int


class DailyOut(BaseModel):
    day: date
    view: View
    rows: list[CountsOut]


def _rows(
    context: OfficeContext, officer: Officer, community: str | None, day: date, view: View
) -> list[CountsOut]:
    scope = officer.scope(community or None)
    if view == "gate":
        return [
            CountsOut(community=row.community, group=row.gate, **_counts(row))
            for row in reports.gate_report(context.db, scope, day, context.zone)
        ]
    return [
        CountsOut(community=row.community, group=row.group, **_counts(row))
        for row in reports.rollup(context.db, scope, day, context.zone, view)
    ]


def _counts(row: object) -> dict[str, int]:
    return {column: int(getattr(row, column)) for column in reports.COUNT_COLUMNS}


@api.get("/reports/daily", response_model=DailyOut)
def daily_api(
    officer: OfficerDep,
    context: ContextDep,
    day: date | None = None,
    view: View = "gate",
    community: str | None = None,
) -> DailyOut:
    day = day or context.now().astimezone(context.zone).date()
    return DailyOut(day=day, view=view, rows=_rows(context, officer, community, day, view))


@pages.get("/reports")
def reports_page(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    day: str = "",
    view: str = "building",
    community: str = "",
) -> Response:
    chosen = office_day(context, day)
    level: View = view if view in VIEWS else "building"
    rows = [] if chosen is None else _rows(context, officer, community, chosen, level)
    communities = sorted({row.community for row in rows})
    return render(
        request,
        "reports.html",
        "reports.title",
        officer=officer,
        current="/reports",
        status_code=200 if chosen is not None else 400,
        error=None if chosen is not None else "reports.bad_day",
        day=(chosen or context.now().astimezone(context.zone).date()).isoformat(),
        view=level,
        views=VIEWS,
        by_community=[
            (name, [row for row in rows if row.community == name]) for name in communities
        ],
        columns=reports.COUNT_COLUMNS,
        community=community,
        communities=officer.scope(None),
    )


@pages.get("/reports/export.{fmt}")
def reports_export(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    fmt: Format,
    day: str = "",
    view: View = "building",
    community: str = "",
) -> Response:
    chosen = office_day(context, day)
    if chosen is None:
        return bad_request_page(request)
    scope = officer.scope(community or None)
    headings, rows = reports.report_table(context.db, scope, chosen, context.zone, view)
    title = f"日报 {chosen.isoformat()}"
    return download(context, fmt, f"report-{view}-{chosen.isoformat()}", title, headings, rows)
