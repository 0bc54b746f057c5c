"""``/fever``: the fever ledger (发热症状人员台账) across the officer's gates for a range of
office days, oldest first a page at a time, and its CSV and XLSX exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request, Response

from sync.office import fevers
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.register import Position
from sync.office.routes.reports import Format, download, office_day
from sync.office.templating import PageRoute, bad_request_page, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)

MAX_DAYS = 366


def _range(
    context: OfficeContext, since: str, until: str
) -> tuple[date, date, datetime, datetime] | None:
    """The office days asked for (both ends included; today when none) and the times they
    span; None when a day is not one or the range runs backwards or past a year."""
    first = office_day(context, since)
    last = office_day(context, until or since)
    if first is None or last is None or last < first or (last - first).days >= MAX_DAYS:
        return None
    zone = context.zone
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return first, last, start, end


@pages.get("/fever")
def fever_page(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    since: str = "",
    until: str = "",
    community: str = "",
    after: str = "",
) -> Response:
    scope = officer.scope(community or None)
    span = _range(context, since, until)
    today = context.now().astimezone(context.zone).date()
    if span is None:
        first, last, page = today, today, None
    else:
        first, last, start, end = span
        page = fevers.ledger(
            context.db, scope, start, end, context.zone, after=Position.parse(after)
        )
    return render(
        request,
        "fevers.html",
        "fevers.title",
        officer=officer,
        current="/fever",
        status_code=200 if span is not None else 400,
        error=None if span is not None else "reports.bad_range",
        since=first.isoformat(),
        until=last.isoformat(),
        cases=[] if page is None else page.cases,
        next=None if page is None or page.next is None else page.next.token(),
        community=community,
        communities=officer.scope(None),
    )


@pages.get("/fever/export.{fmt}")
def fever_export(
    request: Request,
    officer: OfficerDep,
    context: ContextDep,
    fmt: Format,
    since: str = "",
    until: str = "",
    community: str = "",
) -> Response:
    scope = officer.scope(community or None)
    span = _range(context, since, until)
    if span is None:
        return bad_request_page(request)
    first, last, start, end = span
    headings, rows = fevers.export(context.db, scope, start, end, context.zone)
    name = f"fever-{first.isoformat()}-{last.isoformat()}"
    return download(context, fmt, name, "发热症状人员台账", headings, rows)
