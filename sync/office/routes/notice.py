"""``/notice``: one community's daily notice for an office day, laid out to be printed and
posted (its own print stylesheet; the print button is a script file, no inline script)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sync.office.notice import daily_notice
from sync.office.page import PageDep
from sync.office.routes.ledgers import office_day, today
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)


@pages.get("/notice")
def notice_page(asked: PageDep, day: str = "") -> Response:
    context, communities, community = asked.context, asked.officer.scope(None), asked.community
    chosen = office_day(context, day)
    if not community and len(communities) == 1:
        community = communities[0]
    notice = None
    if chosen is not None and community:
        asked.officer.scope(community)  # 403 for another community's notice
        notice = daily_notice(context.db, community, chosen, context.zone)
    return asked.page(
        "notice.html",
        "notice.title",
        "/notice",
        assets=("notice.css", "notice.js"),
        error=None if chosen is not None else "reports.bad_day",
        day=chosen or today(context),
        notice=notice,
        community=community,
    )
