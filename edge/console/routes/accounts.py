"""Guard accounts and the audit log: the admin's API and pages, and a guard's own PIN change.

Every change is a call into :class:`edge.store.guards.GuardBook`, which audits it; the ``kakou
guard`` command calls the same methods. The pages (``templates/accounts.html``, ``audit.html``)
post JSON to this API from ``static/accounts.js``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from edge.console import messages
from edge.console.auth import AdminDep, GuardDep, MaybeGuardDep, session_token
from edge.console.defs.accounts import AccountView, ChangeSecretRequest, ResetSecretRequest
from edge.console.defs.request import NewGuardRequest
from edge.console.defs.response import AuditView
from edge.console.deps import ConsoleContext, ContextDep, invalid
from edge.console.routes.pages import (
    day_window,
    filters_given,
    lang_of,
    need_sign_in,
    older_page_query,
    render,
)
from edge.store.guards import (
    AccountRefused,
    AuditRecord,
    Guard,
    Role,
    WeakSecret,
)

router = APIRouter(tags=["guards"])
ASSETS = ("accounts.js",)
AUDIT_PAGE = 50
# 404 for an account that is not there, 409 for a change its state refuses
_REFUSED_STATUS = {"unknown": 404, "removed": 409, "last_admin": 409}


def account_view(guard: Guard) -> AccountView:
    return AccountView(id=guard.id, name=guard.name, role=guard.role, state=guard.state)


def _refused(exc: AccountRefused) -> HTTPException:
    return HTTPException(status_code=_REFUSED_STATUS.get(exc.code, 409), detail=str(exc))


def _weak(exc: WeakSecret, field: str) -> Exception:
    return invalid(("body", field), str(exc), code="weak_secret")


# ------------------------------------------------------------------------ the API


@router.get("/api/v1/guards", response_model=list[AccountView])
def list_guards(admin: AdminDep, context: ContextDep) -> list[AccountView]:
    """Every account, disabled and removed ones too (their ``state`` says which)."""
    return [account_view(g) for g in context.guards.all()]


@router.post("/api/v1/guards", response_model=AccountView, status_code=201)
def add_guard(body: NewGuardRequest, admin: AdminDep, context: ContextDep) -> AccountView:
    try:
        guard = context.guards.add(body.name, body.role, body.secret, now=context.now())
    except WeakSecret as exc:
        raise _weak(exc, "secret") from exc
    except ValueError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    context.guards.audit(context.now(), admin.id, "guard_created", None, {"guard": guard.id})
    return account_view(guard)


_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such account."},
    409: {"description": "A removed account, or the last active admin."},
}


def _change(
    change: Callable[..., Guard], guard_id: str, admin: Guard, context: ConsoleContext
) -> AccountView:
    """One of GuardBook's account changes, made by ``admin`` and audited there."""
    try:
        return account_view(change(guard_id, by=admin, now=context.now()))
    except AccountRefused as exc:
        raise _refused(exc) from exc


@router.post("/api/v1/guards/{guard_id}/disable", response_model=AccountView, responses=_REFUSALS)
def disable_guard(guard_id: str, admin: AdminDep, context: ContextDep) -> AccountView:
    """The account can no longer sign in; its sessions and its duty end."""
    return _change(context.guards.disable, guard_id, admin, context)


@router.post("/api/v1/guards/{guard_id}/enable", response_model=AccountView, responses=_REFUSALS)
def enable_guard(guard_id: str, admin: AdminDep, context: ContextDep) -> AccountView:
    """A disabled account signs in again, with its old secret."""
    return _change(context.guards.enable, guard_id, admin, context)


@router.delete("/api/v1/guards/{guard_id}", response_model=AccountView, responses=_REFUSALS)
def remove_guard(guard_id: str, admin: AdminDep, context: ContextDep) -> AccountView:
    """Removed for good: the secret is erased; the name stays in the audit log and ledgers."""
    return _change(context.guards.remove, guard_id, admin, context)


@router.post("/api/v1/guards/{guard_id}/secret", response_model=AccountView, responses=_REFUSALS)
def reset_secret(
    guard_id: str, body: ResetSecretRequest, admin: AdminDep, context: ContextDep
) -> AccountView:
    """An admin sets a new PIN or password; the account's sessions end, its lock-out lifts."""
    try:
        guard = context.guards.reset_secret(guard_id, body.secret, by=admin, now=context.now())
    except WeakSecret as exc:
        raise _weak(exc, "secret") from exc
    except AccountRefused as exc:
        raise _refused(exc) from exc
    return account_view(guard)


@router.post(
    "/api/v1/auth/secret",
    status_code=204,
    responses={
        403: {"description": "The old PIN or password is wrong."},
        429: {"description": "Too many wrong ones: the account is locked for a while."},
    },
)
def change_own_secret(
    body: ChangeSecretRequest, request: Request, guard: GuardDep, context: ContextDep
) -> None:
    """Change one's own PIN or password, giving the old one (a wrong one counts as a failed
    sign-in); the guard's other sessions end, this one stays."""
    try:
        context.guards.change_own_secret(
            guard, body.old, body.new, now=context.now(), keep_token=session_token(request)
        )
    except WeakSecret as exc:
        raise _weak(exc, "new") from exc
    except AccountRefused as exc:
        if exc.code == "locked":
            raise HTTPException(429, str(exc), headers={"Retry-After": "300"}) from exc
        raise HTTPException(status_code=403, detail=str(exc)) from exc


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """What the API and the page narrow the audit log to, from the query string."""

    action: str | None
    guard_id: str | None
    before_id: int | None

    def records(
        self, context: ConsoleContext, *, limit: int, since: datetime | None, until: datetime | None
    ) -> list[AuditRecord]:
        """Newest first, at most ``limit``, recorded from ``since`` until before ``until``."""
        return context.guards.audit_log(
            limit=limit,
            action=self.action,
            guard_id=self.guard_id,
            since=since,
            until=until,
            before_id=self.before_id,
        )


def _audit_search(
    action: Annotated[str | None, Query(max_length=64)] = None,
    guard_id: Annotated[
        str | None, Query(max_length=64, description="What it did or what was done to it.")
    ] = None,
    before_id: int | None = None,
) -> AuditSearch:
    # An empty value (a form's "any") narrows nothing.
    return AuditSearch(action or None, guard_id or None, before_id)


AuditSearchDep = Annotated[AuditSearch, Depends(_audit_search)]


@router.get("/api/v1/audit", response_model=list[AuditView])
def audit(
    admin: AdminDep,
    context: ContextDep,
    search: AuditSearchDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditView]:
    """The audit log, newest first, paged by ``before_id`` (the last id of the page before)."""
    records = search.records(context, limit=limit, since=since, until=until)
    return [AuditView(**r.model_dump()) for r in records]


# ------------------------------------------------------------------------ the pages


@router.get("/accounts", include_in_schema=False)
def accounts_page(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    """Everyone signed in changes their own PIN here; an admin also manages the accounts."""
    if guard is None:
        return need_sign_in(request)
    admin = guard.role is Role.ADMIN
    return render(
        request,
        "accounts.html",
        "nav.accounts",
        guard=guard,
        current="/accounts",
        assets=ASSETS,
        accounts=context.guards.all() if admin else [],
        roles=[r.value for r in Role],
    )


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    who: str
    action: str
    lane: str
    detail: str


def _detail_text(detail: dict[str, Any], names: dict[str, str], lang: str) -> str:
    """``detail`` as labelled values in the page's language: account ids as names, stored
    codes (a mode, a refusal) in words; an unknown key or code shows as itself."""
    parts = []
    for key, value in detail.items():
        if key in ("guard", "relieved"):
            ids = value if isinstance(value, list) else [value]
            shown = "、".join(names.get(str(i), str(i)) for i in ids) or messages.text(lang, "none")
        elif key == "mode":
            shown = messages.term("mode", str(value), lang)
        elif key == "code":
            shown = messages.term("audit_code", str(value), lang)
        elif isinstance(value, str | int | float):
            shown = str(value)
        else:
            shown = json.dumps(value, ensure_ascii=False)
        parts.append(f"{messages.term('audit_key', key, lang)}: {shown}")
    return "; ".join(parts)


def audit_rows(records: list[AuditRecord], context: ConsoleContext, lang: str) -> list[AuditRow]:
    names = {g.id: g.name for g in context.guards.all()}
    zone = context.zone
    none = messages.text(lang, "none")
    return [
        AuditRow(
            id=r.id,
            at=r.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            who=none if r.guard_id is None else names.get(r.guard_id, r.guard_id),
            action=messages.term("audit_action", r.action, lang),
            lane=r.lane or none,
            detail=_detail_text(r.detail, names, lang),
        )
        for r in records
    ]


def _day(text: str) -> date | None:
    """The form's day; empty (the form sent no day) or not a date: every day."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    context: ContextDep,
    guard: MaybeGuardDep,
    search: AuditSearchDep,
    day: Annotated[str, Query(max_length=10, description="YYYY-MM-DD; empty: any day")] = "",
) -> Response:
    if guard is None:
        return need_sign_in(request)
    if guard.role is not Role.ADMIN:
        raise HTTPException(status_code=403, detail="this needs an admin")
    lang = lang_of(request)
    on = _day(day)
    since, until = day_window(on, context.zone)
    records = search.records(context, limit=AUDIT_PAGE, since=since, until=until)
    filters = filters_given(
        {
            "guard_id": search.guard_id,
            "action": search.action,
            "day": on.isoformat() if on else None,
        }
    )
    older = older_page_query(filters, "before_id", [r.id for r in records], AUDIT_PAGE)
    return render(
        request,
        "audit.html",
        "nav.audit",
        lang=lang,
        guard=guard,
        current="/audit",
        filters=filters,
        accounts=context.guards.all(),
        actions=sorted(messages.table("audit_action")),
        rows=audit_rows(records, context, lang),
        older_query=older,
    )
