"""Who is asking: the office's session cookie (or a bearer token) → the signed-in officer.

Every page and API route but sign-in needs an officer (401; a page answers with the sign-in
form instead); account and audit pages need an admin (403). The cookie is the office's own name,
so a gate console on the same host (cookies ignore ports) never mixes with it: HttpOnly (no
script reads it), SameSite=Strict (no other site makes the browser send it: our CSRF defence),
and Secure whenever the office is served over HTTPS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from sync.office import accounts
from sync.office.accounts import Officer
from sync.office.context import ContextDep, OfficeContext

SESSION_COOKIE = "kakou_office_session"


def session_token(request: Request) -> str | None:
    """The cookie a browser sends, or ``Authorization: Bearer …`` from a script."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def session_for(context: OfficeContext) -> timedelta:
    return timedelta(hours=context.office.session_hours)


def optional_officer(request: Request, context: ContextDep) -> Officer | None:
    token = session_token(request)
    if token is None:
        return None
    return accounts.session(context.db, token, now=context.now())


def signed_in_officer(officer: Annotated[Officer | None, Depends(optional_officer)]) -> Officer:
    if officer is None:
        raise HTTPException(
            status_code=401, detail="sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
    return officer


def admin_officer(officer: Annotated[Officer, Depends(signed_in_officer)]) -> Officer:
    if not officer.is_admin:
        raise HTTPException(status_code=403, detail="this needs an admin")
    return officer


OfficerDep = Annotated[Officer, Depends(signed_in_officer)]
AdminDep = Annotated[Officer, Depends(admin_officer)]
MaybeOfficerDep = Annotated[Officer | None, Depends(optional_officer)]


def set_session_cookie(response: Response, token: str, max_age_s: int, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        httponly=True,
        samesite="strict",
        path="/",
        secure=secure,
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure
    )
