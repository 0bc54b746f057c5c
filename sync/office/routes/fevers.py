"""``/fever``: the fever ledger (发热症状人员台账) across the officer's gates for a range of
office days, oldest first a page at a time, and its CSV and XLSX exports."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sync.office import fevers
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep
from sync.office.register import Position
from sync.office.routes.ledgers import Format, download, office_days, today
from sync.office.templating import PageRoute, bad_request_page, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)


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
    days = office_days(context, since, until)
    first = last = today(context)
    page = None
    if days is not None:
        first, last = days.first, days.last
        page = fevers.ledger(
            context.db, scope, days.start, days.end, context.zone, after=Position.parse(after)
        )
    return render(
        request,
        "fevers.html",
        "fevers.title",
        officer=officer,
        current="/fever",
        status_code=200 if days is not None else 400,
        error=None if days is not None else "reports.bad_range",
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
    days = office_days(context, since, until)
    if days is None:
        return bad_request_page(request)
    headings, rows = fevers.export(context.db, scope, days.start, days.end, context.zone)
    name = f"fever-{days.first.isoformat()}-{days.last.isoformat()}"
    return download(context, fmt, name, "发热症状人员台账", headings, rows)
