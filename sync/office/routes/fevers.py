"""``/fever``: the fever ledger (发热症状人员台账) across the officer's gates for a range of
office days, oldest first a page at a time, and its CSV and XLSX exports."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sync.office import fevers
from sync.office.page import PageDep
from sync.office.register import Position
from sync.office.routes.ledgers import Format, download, next_token, office_days, today
from sync.office.templating import PageRoute, bad_request_page

pages = APIRouter(include_in_schema=False, route_class=PageRoute)


@pages.get("/fever")
def fever_page(asked: PageDep, since: str = "", until: str = "", after: str = "") -> Response:
    context, scope = asked.context, asked.scope
    days = office_days(context, since, until)
    first = last = today(context)
    page = None
    if days is not None:
        first, last = days.first, days.last
        page = fevers.ledger(
            context.db, scope, days.start, days.end, context.zone, after=Position.parse(after)
        )
    return asked.page(
        "fevers.html",
        "fevers.title",
        "/fever",
        error=None if days is not None else "reports.bad_range",
        since=first.isoformat(),
        until=last.isoformat(),
        cases=[] if page is None else page.cases,
        next=next_token(page),
    )


@pages.get("/fever/export.{fmt}")
def fever_export(asked: PageDep, fmt: Format, since: str = "", until: str = "") -> Response:
    context, scope = asked.context, asked.scope
    days = office_days(context, since, until)
    if days is None:
        return bad_request_page(asked.request)
    headings, rows = fevers.export(context.db, scope, days.start, days.end, context.zone)
    name = f"fever-{days.first.isoformat()}-{days.last.isoformat()}"
    return download(context, fmt, name, "发热症状人员台账", headings, rows)
