"""Sign-in, sign-out and the duty roster with shift hand-over (accounts: routes/accounts.py)."""

from __future__ import annotations

import asyncio
import functools

from fastapi import APIRouter, HTTPException, Request, Response

from edge.console.auth import SESSION, GuardDep, session_token, set_session_cookie
from edge.console.defs.request import HandOverRequest, SignInRequest
from edge.console.defs.response import DutyView, GuardView, HandOverView, MeView
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.sessions import seconds_until, too_many
from edge.console.throttle import SignInLimits, client_key
from edge.console.work import Busy
from edge.store.guards import SESSION_FOR, Guard, SignInFailure

router = APIRouter(prefix="/api/v1", tags=["guards"])


def guard_view(guard: Guard) -> GuardView:
    return GuardView(id=guard.id, name=guard.name, role=guard.role.value)


def _duty(context: ConsoleContext) -> list[DutyView]:
    return [DutyView(guard=guard_view(g), since=at) for g, at in context.guards.on_duty()]


@router.post(
    "/auth/sign-in",
    response_model=MeView,
    responses={
        401: {"description": "Wrong name or secret."},
        429: {"description": "Too many failures from this client or at this account."},
        503: {"description": "Too many sign-ins at once; try again in a second."},
    },
)
async def sign_in(
    body: SignInRequest, request: Request, response: Response, context: ContextDep
) -> MeView:
    """Sign in. Limits (docs/console.md): per client and per account, answered 429 with
    Retry-After; the hashing runs two at a time on threads of its own."""
    limits: SignInLimits = request.app.state.sign_in_limits
    now = context.now()
    client = client_key(request.client.host if request.client else None)
    attempt = limits.throttle.admit(client, body.name, now)
    if isinstance(attempt, int):
        raise too_many(attempt)
    try:
        result = await limits.work.run(
            functools.partial(context.guards.sign_in, body.name, body.secret, now=now)
        )
    except Busy as exc:
        limits.throttle.give_back(attempt)
        raise HTTPException(503, "busy; try again", headers={"Retry-After": "1"}) from exc
    if isinstance(result, SignInFailure):
        if result.code == "locked":
            raise too_many(seconds_until(result.locked_until, now))
        raise HTTPException(status_code=401, detail="wrong name or PIN")
    limits.throttle.succeeded(attempt)
    guard, token = result
    secure = request.url.scheme == "https"
    set_session_cookie(response, token, int(SESSION_FOR.total_seconds()), secure=secure)
    return MeView(guard=guard_view(guard), on_duty=await asyncio.to_thread(_duty, context))


@router.post("/auth/sign-out", status_code=204)
def sign_out(request: Request, response: Response, context: ContextDep) -> None:
    token = session_token(request)
    if token is not None:
        context.guards.sign_out(token, now=context.now())
    SESSION.clear(response)


@router.get("/auth/me", response_model=MeView)
def me(guard: GuardDep, context: ContextDep) -> MeView:
    return MeView(guard=guard_view(guard), on_duty=_duty(context))


@router.get("/duty", response_model=list[DutyView])
def duty(guard: GuardDep, context: ContextDep) -> list[DutyView]:
    """Who is on duty: names, so only for a signed-in guard."""
    return _duty(context)


@router.post("/duty/take", response_model=HandOverView)
def take_duty(body: HandOverRequest, guard: GuardDep, context: ContextDep) -> HandOverView:
    relieved = context.guards.take_duty(guard, now=context.now(), note=body.note)
    return HandOverView(on_duty=_duty(context), relieved=[guard_view(g) for g in relieved])
