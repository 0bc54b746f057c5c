"""Sign-in (the form and the API), sign-out and the language switch.

Two limits stand in front of the account's own lock-out (``sync.office.accounts``): failures
per client address and per (client, name) in memory, answered 429 before anything is hashed
(``edge.console.throttle``, the gate console's), and the hashing itself on two threads of its
own with a bounded queue (503 past it), so a crowd of sign-ins cannot take the pages' threads.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from edge.console.page_kit import local_path
from edge.console.throttle import SignInLimits, SignInRefused, sign_in_responses
from sync.office import accounts
from sync.office.accounts import Officer
from sync.office.auth import (
    MaybeOfficerDep,
    OfficerDep,
    clear_session_cookie,
    session_for,
    session_token,
    set_session_cookie,
)
from sync.office.context import ContextDep, OfficeContext
from sync.office.forms import form_fields
from sync.office.templating import LANG, PageRoute, render

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["auth"])

MAX_NAME = 64
MAX_SECRET = 256


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME)
    secret: str = Field(min_length=1, max_length=MAX_SECRET)


class OfficerView(BaseModel):
    id: str
    name: str
    role: str
    communities: list[str] | None = Field(description="None: every community (district admin).")


def officer_view(officer: Officer) -> OfficerView:
    communities = None if officer.communities is None else list(officer.communities)
    return OfficerView(
        id=officer.id, name=officer.name, role=officer.role.value, communities=communities
    )


LOGIN_PROBLEMS = {
    401: "login.wrong",
    422: "login.missing",
    429: "login.locked",
    503: "login.busy",
}
"""What the sign-in form says for each refusal (message ids)."""


async def sign_in_officer(
    request: Request, context: OfficeContext, name: str, secret: str
) -> tuple[Officer, str] | SignInRefused:
    """The one sign-in both the form and the API use."""
    limits: SignInLimits = request.app.state.sign_in_limits
    now = context.now()
    return await limits.sign_in(
        request,
        name,
        now,
        functools.partial(
            accounts.sign_in,
            context.db,
            name,
            secret,
            now=now,
            session_for=session_for(context),
        ),
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# ----------------------------------------------------------------------------------- pages


@pages.get("/login")
def login_page(request: Request, officer: MaybeOfficerDep, next: str = "/") -> Response:
    """The sign-in form; after it the browser goes to ``next`` (a path here only)."""
    return render(
        request,
        "login.html",
        "nav.sign_in",
        officer=officer,
        current="/login",
        next=local_path(next),
        problem=None,
        name="",
    )


@pages.post("/login")
async def login_form(request: Request, context: ContextDep) -> Response:
    fields = await form_fields(request)
    name = fields.get("name", "")[:MAX_NAME]
    secret = fields.get("secret", "")
    next_path = local_path(fields.get("next"))
    refused: SignInRefused
    if not name or not secret or len(secret) > MAX_SECRET:
        refused = SignInRefused(422)
    else:
        result = await sign_in_officer(request, context, name, secret)
        if not isinstance(result, SignInRefused):
            _, token = result
            response = RedirectResponse(next_path, status_code=303)
            set_session_cookie(
                response,
                token,
                int(session_for(context).total_seconds()),
                secure=_secure(request),
            )
            return response
        refused = result
    minutes = math.ceil((refused.retry_after_s or 60) / 60)
    headers = {} if refused.retry_after_s is None else {"Retry-After": str(refused.retry_after_s)}
    page = render(
        request,
        "login.html",
        "nav.sign_in",
        current="/login",
        next=next_path,
        problem=(LOGIN_PROBLEMS[refused.status], {"minutes": minutes}),
        name=name,
        status_code=refused.status,
    )
    page.headers.update(headers)
    return page


@pages.post("/logout")
async def logout_form(request: Request, context: ContextDep) -> Response:
    await form_fields(request)  # the same-origin check
    token = session_token(request)
    if token is not None:
        accounts.sign_out(context.db, token, now=context.now())
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=_secure(request))
    return response


@pages.get("/lang/{to}")
def switch_language(request: Request, to: Literal["zh", "en"], next: str = "/") -> RedirectResponse:
    """Remember the language on this device for a year; back to the page it came from."""
    return LANG.switch(request, to, next)


# ------------------------------------------------------------------------------------- API


@api.post(
    "/auth/sign-in",
    response_model=OfficerView,
    responses=sign_in_responses("Wrong name or password."),
)
async def sign_in(
    body: SignInRequest, request: Request, response: Response, context: ContextDep
) -> OfficerView:
    """Sign in; the session comes back as an HttpOnly cookie (scripts may send it as a
    bearer token instead)."""
    result = await sign_in_officer(request, context, body.name, body.secret)
    if isinstance(result, SignInRefused):
        raise result.http_error("wrong name or password")
    officer, token = result
    set_session_cookie(
        response, token, int(session_for(context).total_seconds()), secure=_secure(request)
    )
    return officer_view(officer)


@api.post("/auth/sign-out", status_code=204)
def sign_out(request: Request, response: Response, context: ContextDep) -> None:
    token = session_token(request)
    if token is not None:
        accounts.sign_out(context.db, token, now=context.now())
    clear_session_cookie(response, secure=_secure(request))


@api.get("/auth/me", response_model=OfficerView)
def me(officer: OfficerDep) -> OfficerView:
    return officer_view(officer)
