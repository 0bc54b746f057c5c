"""``/audit``: the office's audit log for admins, newest first, by officer and action."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sync.office import accounts, audit
from sync.office.accounts import Officer
from sync.office.auth import AdminDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.templating import PageRoute, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
PAGE = 100


def readable(context: OfficeContext, admin: Officer) -> tuple[list[Officer], list[str] | None]:
    """The accounts an admin may read the lines of, and their communities (None: all)."""
    covered = [one for one in accounts.every(context.db) if admin.covers(one)]
    communities = None if admin.communities is None else list(admin.communities)
    return covered, communities


@pages.get("/audit")
def audit_page(
    request: Request,
    admin: AdminDep,
    context: ContextDep,
    officer: str = "",
    action: str = "",
    before: int | None = None,
) -> Response:
    covered, communities = readable(context, admin)
    lines = audit.read(
        context.db,
        communities=communities,
        officers=[one.id for one in covered],
        officer_id=officer or None,
        action=action or None,
        before=before,
        limit=PAGE,
    )
    return render(
        request,
        "audit.html",
        "nav.audit",
        officer=admin,
        current="/audit",
        lines=lines,
        accounts=covered,
        chosen_officer=officer,
        action=action,
        actions=audit.ACTIONS,
        more=len(lines) == PAGE,
    )
