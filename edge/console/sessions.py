"""Sign-in sessions as both consoles keep them: the cookie, the bearer token, and the answers
to someone not signed in (401), not an admin (403) or failing too often (429).

The gate console (guards, ``edge.console.auth``) and the office console (officers,
``sync.office.auth``) each name their own cookie, so a gate console and an office console on the
same host (cookies ignore ports) never mix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from fastapi import HTTPException, Request, Response

Who = TypeVar("Who")


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """The session cookie named ``name``."""

    name: str

    def token(self, request: Request) -> str | None:
        """The cookie a browser sends, or ``Authorization: Bearer …`` from a script."""
        token = request.cookies.get(self.name)
        if token:
            return token
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def set(self, response: Response, token: str, max_age_s: int, *, secure: bool) -> None:
        # HttpOnly: page scripts never see it; SameSite=Strict: no other site can make the
        # browser send it (our CSRF defence). Secure whenever the console is served over HTTPS:
        # the browser then never sends the session in clear.
        response.set_cookie(
            self.name,
            token,
            max_age=max_age_s,
            httponly=True,
            samesite="strict",
            path="/",
            secure=secure,
        )

    def clear(self, response: Response, *, secure: bool = False) -> None:
        response.delete_cookie(self.name, path="/", httponly=True, samesite="strict", secure=secure)


def signed_in(who: Who | None) -> Who:
    """``who``, or 401 for nobody signed in (a page's handler may answer with its form)."""
    if who is None:
        raise HTTPException(
            status_code=401, detail="sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
    return who


def admin_only(who: Who, *, is_admin: bool) -> Who:
    """``who`` if an admin, else 403."""
    if not is_admin:
        raise HTTPException(status_code=403, detail="this needs an admin")
    return who


def too_many(retry_after_s: int) -> HTTPException:
    """429 for a client or an account that failed too often; try again after the wait."""
    return HTTPException(
        status_code=429,
        detail="too many failures; try again later",
        headers={"Retry-After": str(retry_after_s)},
    )


def seconds_until(then: datetime | None, now: datetime) -> int:
    """Whole seconds from ``now`` until ``then`` (a lock-out's end), at least 1."""
    return 1 if then is None else max(1, math.ceil((then - now).total_seconds()))
