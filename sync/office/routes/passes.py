"""Issuing, revoking and printing passes. Every change is asked for twice: the first post shows
what will happen, the second (``confirm=yes``) does it. A revocation is recorded, then the
community's full list goes to the gates as the next signed version; if sending fails the
revocation stays recorded and the downlink page offers to send it again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from edge.model import PassKind
from sync.office import audit, passes
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, NoSigningKey
from sync.office.forms import form_fields
from sync.office.messages import term, text
from sync.office.page import PageRequest, PlainPageDep, RosterPageDep, Search
from sync.office.routes.households import Notice, household_page
from sync.office.templating import PageRoute

pages = APIRouter(include_in_schema=False, route_class=PageRoute)


def passes_page(
    asked: PageRequest,
    *,
    q: str = "",
    notices: list[Notice] | None = None,
    sheet: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    with asked.context.db.reading() as query:
        listed = passes.find_passes(query, communities=asked.scope, text=q)
    return asked.page(
        "passes.html",
        "passes.title",
        "/passes",
        status_code=status_code,
        passes=listed,
        now=asked.context.now(),
        q=q,
        kinds=passes.OFFICE_KINDS,
        notices=notices or [],
        sheet=sheet,
    )


@pages.get("/passes", response_class=HTMLResponse)
def passes_list(asked: RosterPageDep, q: Search = "") -> HTMLResponse:
    return passes_page(asked, q=q)


def _confirm(
    asked: PageRequest, question: str, fields: dict[str, str], action: str, back: str
) -> HTMLResponse:
    return asked.page(
        "pass_confirm.html",
        "passes.title",
        "/passes",
        question=question,
        fields={**fields, "confirm": "yes"},
        action=action,
        back=back,
    )


def _back(community: str, unit: str) -> str:
    return f"/households/{quote(community)}/{quote(unit)}" if unit else "/passes"


def _result(
    asked: PageRequest,
    unit: str,
    notices: list[Notice],
    *,
    sheet: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The page a pass form came from: the household ``unit``, or the passes of the
    request's community."""
    if unit:
        return household_page(asked, unit, notices=notices, status_code=status_code)
    return passes_page(asked, notices=notices, sheet=sheet, status_code=status_code)


@pages.post("/passes/issue", response_class=HTMLResponse)
async def issue(asked: PlainPageDep) -> HTMLResponse:
    """One household's residents (``unit``), or every resident of the community without a
    good pass (no ``unit``)."""
    lang, context, officer = asked.lang, asked.context, asked.officer
    here, fields = await asked.community_form()
    community, unit = here.community, fields.get("unit", "")
    try:
        kind = PassKind(fields.get("kind", "resident"))
        days = int(fields.get("days", "365"))
        if not 1 <= days <= passes.MAX_DAYS:
            raise ValueError("days")
    except ValueError:
        notice = ("bad", text(lang, "passes.bad_days"))
        return _result(here, unit, [notice], status_code=400)
    now = context.now()
    with context.db.reading() as query:
        requests = passes.household_requests(
            query,
            community=community,
            units=[unit] if unit else None,
            kind=kind,
            days=days,
            now=now,
            only_missing=not unit,
        )
    if not requests:
        notice = ("bad", text(lang, "passes.nothing_to_issue"))
        return _result(here, unit, [notice], status_code=400)
    if fields.get("confirm") != "yes":
        question = text(
            lang,
            "passes.confirm_issue",
            n=len(requests),
            what=unit or community,
            kind=term("kind", kind.value, lang),
            days=days,
        )
        keep = {"community": community, "unit": unit, "kind": kind.value, "days": str(days)}
        return _confirm(here, question, keep, "/passes/issue", _back(community, unit))
    try:
        with context.db.writing() as query:
            issued = passes.issue_passes(
                query,
                community=community,
                requests=requests,
                signing_key=passes.office_signing_key(context.office),
                officer=officer,
                now=now,
                zone=context.zone,
            )
    except NoSigningKey:
        notice = ("bad", text(lang, "passes.no_key"))
        return _result(here, unit, [notice], status_code=409)
    except ValueError as exc:
        notice = ("bad", text(lang, "passes.bad_request", reason=str(exc)))
        return _result(here, unit, [notice], status_code=400)
    notice = ("good", text(lang, "passes.issued", n=len(issued)))
    sheet = f"/passes/{community}/sheet.pdf?first={issued[0]}&last={issued[-1]}"
    return _result(here, unit, [notice], sheet=sheet)


@pages.post("/passes/revoke", response_class=HTMLResponse)
async def revoke(asked: PlainPageDep) -> HTMLResponse:
    """One pass (``pass_id``) or every pass of a household (``unit`` alone)."""
    lang, context, officer = asked.lang, asked.context, asked.officer
    fields = await form_fields(asked.request)
    community = fields.get("community", "")
    unit, pass_id = fields.get("unit", ""), fields.get("pass_id", "")
    if not community or not (unit or pass_id):
        raise HTTPException(status_code=400, detail="community and a pass or unit are required")
    officer.scope(community)
    here = asked.within(community)
    if fields.get("confirm") != "yes":
        question = text(lang, "passes.confirm_revoke", what=pass_id or unit)
        keep = {"community": community, "unit": unit, "pass_id": pass_id}
        return _confirm(here, question, keep, "/passes/revoke", _back(community, unit))
    now = context.now()
    with context.db.writing() as query:
        revoked = passes.revoke(
            query,
            community=community,
            pass_ids=[pass_id] if pass_id else [],
            unit=unit or None,
            officer=officer,
            now=now,
        )
    if not revoked:
        notice = ("bad", text(lang, "passes.nothing_revoked"))
        return _result(here, unit, [notice], status_code=400)
    notices: list[Notice] = [("good", text(lang, "passes.revoked", n=len(revoked)))]
    published = passes.publish_revocations(
        context.db, context.downlink(), community=community, officer=officer, now=now
    )
    if published.document is not None:
        notices.append(("good", text(lang, "passes.published", version=published.document.version)))
    else:
        notices.append(("bad", text(lang, "passes.not_published", reason=published.error or "")))
    return _result(here, unit, notices)


@pages.get("/passes/{community}/sheet.pdf")
def sheet(
    context: ContextDep,
    officer: OfficerDep,
    community: str,
    ids: Annotated[str, Query(max_length=2000)] = "",
    first: Annotated[str, Query(max_length=32)] = "",
    last: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The printable sheet of ``ids`` (comma-separated) or of one issue, ``first`` to ``last``."""
    officer.scope(community)
    with context.db.reading() as query:
        wanted = (
            passes.ids_between(query, community, first, last)
            if first and last
            else [item for item in ids.split(",") if item]
        )
        try:
            pdf = passes.sheet_pdf(query, community, wanted, zone=context.zone)
        except ValueError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
    with context.db.writing() as query:
        # The sheet prints full names: who printed which cards is on record.
        audit.record(
            query,
            officer=officer,
            action="pass.print",
            community=community,
            detail=f"printed {len(wanted)} pass(es): {', '.join(wanted[:5])}"
            + (f" and {len(wanted) - 5} more" if len(wanted) > 5 else ""),
            now=context.now(),
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="passes-{community}.pdf"',
            "Cache-Control": "no-store",
        },
    )
