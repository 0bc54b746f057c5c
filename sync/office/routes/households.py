"""The households page: import the roster, search it, and a household's residents (masked) and
passes; the same as JSON under /api/v1. An officer sees and changes only their communities."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from sync.office import audit, passes, roster
from sync.office.auth import OfficerDep
from sync.office.context import ContextDep, OfficeContext
from sync.office.messages import text
from sync.office.page import Community, PageRequest, PlainPageDep, RosterPageDep, Search
from sync.office.templating import PageRoute
from sync.office.uploads import read_upload

pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api/v1", tags=["households"])

Notice = tuple[str, str]
"""(``good`` | ``bad``, text already in the reader's language)."""


def upload_limit(context: OfficeContext) -> int:
    """The largest roster file a form can carry: the sheet's own cap and the body limit."""
    return min(roster.MAX_SHEET_BYTES, context.office.max_body_bytes - 16 * 1024)


def households_page(
    asked: PageRequest,
    *,
    q: str = "",
    notices: list[Notice] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    scope, context = asked.scope, asked.context
    with context.db.reading() as query:
        found = roster.search_households(query, communities=scope, text=q)
        households, residents = roster.counts(query, scope)
    return asked.page(
        "households.html",
        "households.title",
        "/households",
        status_code=status_code,
        assets=("households.js",),
        households=found,
        q=q,
        count=(households, residents),
        notices=notices or [],
        problems=problems or [],
        max_bytes=upload_limit(context),
        max_mb=upload_limit(context) // (1024 * 1024) or 1,
    )


@pages.get("/households", response_class=HTMLResponse)
def households(asked: RosterPageDep, q: Search = "") -> HTMLResponse:
    return households_page(asked, q=q)


@pages.post("/households/import", response_class=HTMLResponse)
async def import_roster(asked: PlainPageDep) -> HTMLResponse:
    lang, context, officer = asked.lang, asked.context, asked.officer
    try:
        upload = await read_upload(asked.request)
    except ValueError:
        notice = ("bad", text(lang, "households.no_file"))
        return households_page(asked, notices=[notice], status_code=400)
    community = upload.fields.get("community", "")
    officer.scope(community or None)  # 403 for a community not the officer's
    if not community:
        raise HTTPException(status_code=400, detail="community is required")
    if not upload.data:
        notice = ("bad", text(lang, "households.no_file"))
        return households_page(asked, notices=[notice], status_code=400)
    parsed = roster.parse_roster(upload.data, filename=upload.filename)
    if not parsed.ok:
        problems = [
            text(lang, "roster.line", line=error.line_no)
            + text(lang, f"roster.{error.code}", detail=error.detail)
            for error in parsed.errors
        ]
        if parsed.more_errors:
            problems.append(text(lang, "households.more_problems", n=parsed.more_errors))
        notice = (
            "bad",
            text(lang, "households.rejected", n=len(parsed.errors) + parsed.more_errors),
        )
        return households_page(
            asked.within(community), notices=[notice], problems=problems, status_code=400
        )
    now = context.now()
    with context.db.writing() as query:
        counts = roster.import_roster(query, community=community, rows=parsed.rows, now=now)
        audit.record(
            query,
            officer=officer,
            action="roster.import",
            community=community,
            # The file's name and the counts: never a resident's data.
            detail=f"{upload.filename[:80]!r}: {counts.households_added} households added, "
            f"{counts.households_updated} updated, {counts.residents_added} residents added, "
            f"{counts.residents_updated} updated, {counts.unchanged} unchanged",
            now=now,
        )
    notice = (
        "good",
        text(
            lang,
            "households.imported",
            ha=counts.households_added,
            hu=counts.households_updated,
            ra=counts.residents_added,
            ru=counts.residents_updated,
            same=counts.unchanged,
        ),
    )
    return households_page(asked.within(community), notices=[notice])


def household_page(
    asked: PageRequest,
    unit: str,
    *,
    notices: list[Notice] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The household ``unit`` of the request's community."""
    community, context = asked.community, asked.context
    asked.officer.scope(community)
    with context.db.reading() as query:
        found = roster.household(query, community, unit)
        listed = passes.household_passes(query, community, unit)
    if found is None:
        raise HTTPException(status_code=404, detail="no such household")
    now = context.now()
    printable = [row.pass_id for row in listed if row.state(now) in ("valid", "pending")]
    return asked.page(
        "household.html",
        "households.title",
        "/households",
        status_code=status_code,
        household=found,
        passes=listed,
        printable=printable,
        now=now,
        notices=notices or [],
        kinds=passes.OFFICE_KINDS,
    )


@pages.get("/households/{community}/{unit}", response_class=HTMLResponse)
def household(asked: PlainPageDep, community: str, unit: str) -> HTMLResponse:
    return household_page(asked.within(community), unit)


# ----------------------------------------------------------------------------------- API


class ResidentView(BaseModel):
    name: str
    phone: str
    id_number: str


class HouseholdView(BaseModel):
    community: str
    unit: str
    building: str
    grid: str
    compound: str
    residents: list[ResidentView]


@api.get("/households")
def households_api(
    context: ContextDep, officer: OfficerDep, q: Search = "", community: Community = None
) -> list[HouseholdView]:
    """Households of the officer's communities (or ``community``), residents masked."""
    with context.db.reading() as query:
        found = roster.search_households(query, communities=officer.scope(community), text=q)
    return [HouseholdView.model_validate(item, from_attributes=True) for item in found]
