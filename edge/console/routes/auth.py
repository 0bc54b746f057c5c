"""Sign-in, sign-out and the duty roster with shift hand-over (accounts: routes/accounts.py)."""

from __future__ import annotations

import asyncio
import functools

from fastapi import APIRouter, Request, Response

from edge.console.auth import SESSION, GuardDep, session_token, set_session_cookie
from edge.console.defs.request import HandOverRequest, SignInRequest
from edge.console.defs.response import DutyView, GuardView, HandOverView, MeView
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.throttle import SignInLimits, SignInRefused, sign_in_responses
from edge.store.guards import SESSION_FOR, Guard

router = APIRouter(prefix="/api/v1", tags=["guards"])


def guard_view(guard: Guard) -> GuardView:
    return GuardView(id=guard.id, name=guard.name, role=guard.role.value)


def _duty(context: ConsoleContext) -> list[DutyView]:
    return [DutyView(guard=guard_view(g), since=at) for g, at in context.guards.on_duty()]


@router.post(
    "/auth/sign-in", response_model=MeView, responses=sign_in_responses("Wrong name or secret.")
)
async def sign_in(
    body: SignInRequest, request: Request, response: Response, context: ContextDep
) -> MeView:
    """Sign in. Limits (docs/console.md): per client and per account, answered 429 with
    Retry-After; the hashing runs two at a time on threads of its own."""
    limits: SignInLimits = request.app.state.sign_in_limits
    now = context.now()
    result = await limits.sign_in(
        request,
        body.name,
        now,
        functools.partial(context.guards.sign_in, body.name, body.secret, now=now),
    )
    if isinstance(result, SignInRefused):
        raise result.http_error("wrong name or PIN")
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
