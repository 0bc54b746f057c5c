"""``/audit``: the office's audit log for admins, newest first, by officer and action."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sync.office import accounts, audit
from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from sync.office.page import AdminPageDep
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE = 100


def readable(context: OfficeContext, admin: Officer) -> tuple[list[Officer], list[str] | None]:
    """The accounts an admin may read the lines of, and their communities (None: all)."""
    covered = [one for one in accounts.every(context.db) if admin.covers(one)]
    communities = None if admin.communities is None else list(admin.communities)
    return covered, communities


@pages.get("/audit")
def audit_page(
    asked: AdminPageDep, officer: str = "", action: str = "", before: int | None = None
) -> Response:
    covered, communities = readable(asked.context, asked.officer)
    lines = audit.read(
        asked.context.db,
        communities=communities,
        officers=[one.id for one in covered],
        officer_id=officer or None,
        action=action or None,
        before=before,
        limit=PAGE,
    )
    return asked.page(
        "audit.html",
        "nav.audit",
        "/audit",
        lines=lines,
        accounts=covered,
        chosen_officer=officer,
        action=action,
        actions=audit.ACTIONS,
        more=len(lines) == PAGE,
    )
