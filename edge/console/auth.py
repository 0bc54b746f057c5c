"""Who is asking: the session cookie (or a bearer token for scripts) → the signed-in guard.

Reading the lane state is open (the kiosk and the status page show it); every action that
changes something needs a signed-in guard (401 otherwise) and some need an admin (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from edge.console.deps import ContextDep
from edge.store.guards import Guard, Role

SESSION_COOKIE = "kakou_session"


def session_token(request: Request) -> str | None:
    """The cookie a browser sends, or ``Authorization: Bearer …`` from a script."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return token
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def optional_guard(request: Request, context: ContextDep) -> Guard | None:
    token = session_token(request)
    return None if token is None else context.guards.session(token, now=context.now())


def signed_in_guard(guard: Annotated[Guard | None, Depends(optional_guard)]) -> Guard:
    if guard is None:
        raise HTTPException(
            status_code=401, detail="sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
    return guard


def admin_guard(guard: Annotated[Guard, Depends(signed_in_guard)]) -> Guard:
    if guard.role is not Role.ADMIN:
        raise HTTPException(status_code=403, detail="this needs an admin")
    return guard


GuardDep = Annotated[Guard, Depends(signed_in_guard)]
AdminDep = Annotated[Guard, Depends(admin_guard)]
MaybeGuardDep = Annotated[Guard | None, Depends(optional_guard)]


def set_session_cookie(response: Response, token: str, max_age_s: int, *, secure: bool) -> None:
    # HttpOnly: page scripts never see it; SameSite=Strict: no other site can make the browser
    # send it (our CSRF defence). Secure whenever the console is served over HTTPS (always, on
    # the LAN): the browser then never sends the session in clear.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        httponly=True,
        samesite="strict",
        path="/",
        secure=secure,
    )
