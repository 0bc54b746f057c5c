"""``/reports``: the daily report (日报) per gate, or rolled up per building, grid or compound,
for one office day; its CSV and XLSX exports; ``/api/v1/reports/daily``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from sync.office import reports
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.page import PageDep
from sync.office.routes.ledgers import Format, download, office_days, today
from sync.office.templating import PageRoute, bad_request_page

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["reports"])

View = Literal["gate", "building", "grid", "compound"]
VIEWS: tuple[View, ...] = ("gate", *reports.LEVELS)


class DailyOut(BaseModel):
    day: date
    view: View
    rows: list[reports.GroupCounts]


def _rows(
    context: OfficeContext, scope: list[str], day: date, view: View
) -> list[reports.GroupCounts]:
    if view == "gate":
        return [
            reports.GroupCounts.of_gate(row)
            for row in reports.gate_report(context.db, scope, day, context.zone)
        ]
    return reports.rollup(context.db, scope, day, context.zone, view)


@api.get("/reports/daily", response_model=DailyOut)
def daily_api(
    officer: OfficerDep,
    context: ContextDep,
    day: date | None = None,
    view: View = "gate",
    community: str | None = None,
) -> DailyOut:
    day = day or today(context)
    scope = officer.scope(community or None)
    return DailyOut(day=day, view=view, rows=_rows(context, scope, day, view))


@pages.get("/reports")
def reports_page(asked: PageDep, day: str = "", view: str = "building") -> Response:
    context = asked.context
    days = office_days(context, day)
    level: View = view if view in VIEWS else "building"
    rows = [] if days is None else _rows(context, asked.scope, days.first, level)
    communities = sorted({row.community for row in rows})
    return asked.page(
        "reports.html",
        "reports.title",
        "/reports",
        error=None if days is not None else "reports.bad_day",
        day=(today(context) if days is None else days.first).isoformat(),
        view=level,
        views=VIEWS,
        by_community=[
            (name, [row for row in rows if row.community == name]) for name in communities
        ],
        columns=reports.COUNT_COLUMNS,
    )


@pages.get("/reports/export.{fmt}")
def reports_export(asked: PageDep, fmt: Format, day: str = "", view: View = "building") -> Response:
    context = asked.context
    days = office_days(context, day)
    if days is None:
        return bad_request_page(asked.request)
    headings, rows = reports.report_table(context.db, asked.scope, days.first, context.zone, view)
    name = f"report-{view}-{days.first.isoformat()}"
    return download(context, fmt, name, f"日报 {days.first.isoformat()}", headings, rows)
