"""Who is asking: the session cookie (or a bearer token for scripts) → the signed-in guard.

Reading the lane state is open (the kiosk and the status page show it); every action that
changes something needs a signed-in guard (401 otherwise) and some need an admin (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from edge.console.deps import ContextDep
from edge.console.sessions import SessionCookie, admin_only, signed_in
from edge.store.guards import Guard, Role

SESSION = SessionCookie("kakou_session")
SESSION_COOKIE = SESSION.name
session_token = SESSION.token
set_session_cookie = SESSION.set


def optional_guard(request: Request, context: ContextDep) -> Guard | None:
    token = session_token(request)
    return None if token is None else context.guards.session(token, now=context.now())


def signed_in_guard(guard: Annotated[Guard | None, Depends(optional_guard)]) -> Guard:
    return signed_in(guard)


def admin_guard(guard: Annotated[Guard, Depends(signed_in_guard)]) -> Guard:
    return admin_only(guard, is_admin=guard.role is Role.ADMIN)


GuardDep = Annotated[Guard, Depends(signed_in_guard)]
AdminDep = Annotated[Guard, Depends(admin_guard)]
MaybeGuardDep = Annotated[Guard | None, Depends(optional_guard)]
