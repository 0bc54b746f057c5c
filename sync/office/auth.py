"""Who is asking: the office's session cookie (or a bearer token) → the signed-in officer.

Every page and API route but sign-in needs an officer (401; a page answers with the sign-in
form instead); account and audit pages need an admin (403). The cookie is the office's own name,
so a gate console on the same host (cookies ignore ports) never mixes with it; it is kept as
``edge.console.sessions`` keeps the gate's: HttpOnly, SameSite=Strict (our CSRF defence), and
Secure whenever the office is served over HTTPS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from edge.console.sessions import SessionCookie, admin_only, signed_in
from sync.office import accounts
from sync.office.accounts import Officer
from sync.office.context import ContextDep, OfficeContext

SESSION = SessionCookie("kakou_office_session")
SESSION_COOKIE = SESSION.name
session_token = SESSION.token
set_session_cookie = SESSION.set
clear_session_cookie = SESSION.clear


def session_for(context: OfficeContext) -> timedelta:
    return timedelta(hours=context.office.session_hours)


def optional_officer(request: Request, context: ContextDep) -> Officer | None:
    token = session_token(request)
    if token is None:
        return None
    return accounts.session(context.db, token, now=context.now())


def signed_in_officer(officer: Annotated[Officer | None, Depends(optional_officer)]) -> Officer:
    return signed_in(officer)


def admin_officer(officer: Annotated[Officer, Depends(signed_in_officer)]) -> Officer:
    return admin_only(officer, is_admin=officer.is_admin)


OfficerDep = Annotated[Officer, Depends(signed_in_officer)]
AdminDep = Annotated[Officer, Depends(admin_officer)]
MaybeOfficerDep = Annotated[Officer | None, Depends(optional_officer)]
