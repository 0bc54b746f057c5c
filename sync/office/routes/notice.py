"""``/notice``: one community's daily notice for an office day, laid out to be printed and
posted (its own print stylesheet; the print button is a script file, no inline script)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sync.office.auth import OfficerDep
from sync.office.context import ContextDep
from sync.office.notice import daily_notice
from sync.office.routes.ledgers import office_day, today
from sync.office.templating import PageRoute, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)


@pages.get("/notice")
def notice_page(
    request: Request, officer: OfficerDep, context: ContextDep, day: str = "", community: str = ""
) -> Response:
    communities = officer.scope(None)
    chosen = office_day(context, day)
    if not community and len(communities) == 1:
        community = communities[0]
    notice = None
    if chosen is not None and community:
        officer.scope(community)  # 403 for another community's notice
        notice = daily_notice(context.db, community, chosen, context.zone)
    return render(
        request,
        "notice.html",
        "notice.title",
        officer=officer,
        current="/notice",
        assets=("notice.css", "notice.js"),
        status_code=200 if chosen is not None else 400,
        error=None if chosen is not None else "reports.bad_day",
        day=chosen or today(context),
        notice=notice,
        community=community,
        communities=communities,
    )
