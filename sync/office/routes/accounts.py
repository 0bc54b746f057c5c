"""``/accounts``: an admin's page for the office's accounts (add, disable, enable, reset).

An admin sees and manages only accounts whose communities are all among their own; a district
admin (every community) manages them all. Each change is audited in its own transaction
(``sync.office.accounts``). Forms post plainly; a refused change comes back on the page with
what was wrong, in the officer's language, and the name typed still in its field.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from sync.office import accounts
from sync.office.accounts import AccountProblem, Role
from sync.office.forms import form_fields
from sync.office.page import AdminPageDep, PageRequest
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
DONE = ("added", "disabled", "enabled", "reset")
_STATUS = {"unknown": 404, "not_yours": 403, "name_taken": 409, "last_admin": 409}


def _page(
    asked: PageRequest,
    *,
    done: str = "",
    who: str = "",
    problem: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    listed = [one for one in accounts.every(asked.context.db) if asked.officer.covers(one)]
    return asked.page(
        "accounts.html",
        "nav.accounts",
        "/accounts",
        accounts=listed,
        done=done if done in DONE else "",
        who=who,
        problem=problem,
        form=form or {"name": "", "role": "officer", "communities": ""},
        roles=[role.value for role in Role],
        status_code=status_code,
    )


def _done(action: str, name: str) -> Response:
    return RedirectResponse(
        f"/accounts?{urlencode({'done': action, 'who': name})}", status_code=303
    )


@pages.get("/accounts")
def accounts_page(asked: AdminPageDep, done: str = "", who: str = "") -> Response:
    return _page(asked, done=done, who=who[:32])


@pages.post("/accounts/add")
async def add_account(asked: AdminPageDep) -> Response:
    fields = await form_fields(asked.request)
    form = {
        "name": fields.get("name", "")[:64],
        "role": fields.get("role", ""),
        "communities": fields.get("communities", "")[:500],
    }
    try:
        if form["role"] not in {role.value for role in Role}:
            raise AccountProblem("role", "choose a role")
        made = accounts.add(
            asked.context.db,
            name=form["name"],
            role=Role(form["role"]),
            communities=accounts.parse_communities(form["communities"].split(",")),
            secret=fields.get("secret", ""),
            by=asked.officer,
            now=asked.context.now(),
        )
    except AccountProblem as exc:
        return _page(
            asked,
            problem=f"accounts.problem.{exc.code}",
            form=form,
            status_code=_STATUS.get(exc.code, 422),
        )
    return _done("added", made.name)


async def _change(asked: PageRequest, officer_id: str, action: str) -> Response:
    fields = await form_fields(asked.request)
    db, admin, now = asked.context.db, asked.officer, asked.context.now()
    try:
        if action == "reset":
            target = accounts.reset_secret(
                db, officer_id, fields.get("secret", ""), by=admin, now=now
            )
        else:
            target = accounts.set_active(
                db, officer_id, active=action == "enabled", by=admin, now=now
            )
    except AccountProblem as exc:
        return _page(
            asked,
            problem=f"accounts.problem.{exc.code}",
            status_code=_STATUS.get(exc.code, 422),
        )
    return _done(action, target.name)


@pages.post("/accounts/{officer_id}/disable")
async def disable_account(officer_id: str, asked: AdminPageDep) -> Response:
    return await _change(asked, officer_id, "disabled")


@pages.post("/accounts/{officer_id}/enable")
async def enable_account(officer_id: str, asked: AdminPageDep) -> Response:
    return await _change(asked, officer_id, "enabled")


@pages.post("/accounts/{officer_id}/reset")
async def reset_account(officer_id: str, asked: AdminPageDep) -> Response:
    return await _change(asked, officer_id, "reset")
