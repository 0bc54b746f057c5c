"""Server-rendered pages: sign-in, live lane view, log, daily report, status and the kiosk.

Plain HTML from the templates in ``edge/console/templates`` (Jinja2, every value escaped), one
small script and one stylesheet, all served by the gate (no CDN: the guard post is often
offline). Routes work out what a page shows and hand it to its template; the words come from the
catalogue (``edge/console/messages.py``). Chinese first; the language switch is a cookie the
server reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edge.console import ledgers, messages
from edge.console.auth import MaybeGuardDep
from edge.console.deps import ConsoleContext, ContextDep, get_context
from edge.console.page_kit import (
    LanguageCookie,
    back_from,
    local_path,
    page_route,
    size_text,
)
from edge.console.routes.ledgers import ledger_names
from edge.console.routes.live import hub_of
from edge.console.routes.status import gate_status, trust_state
from edge.console.templating import layout_page, templates
from edge.model import GateMode, Outcome
from edge.store.guards import Guard


def _bad_request_page(request: Request) -> Response:
    return render(
        request,
        "bad_request.html",
        "page.bad_request",
        current="",
        status_code=400,
        back=request.url.path if request.url.path in SEARCH_PAGES else "/",
    )


def too_large_page(request: Request, max_bytes: int) -> Response:
    """What a person is shown for a form's body over ``[console] max_body_bytes`` (413)."""
    return render(
        request,
        "bad_request.html",
        "page.too_large",
        current="",
        status_code=413,
        heading="page.too_large",
        hint="page.too_large_hint",
        hint_params={"size": size_text(max_bytes)},
        back=back_from(request),
    )


PageRoute = page_route(_bad_request_page)
"""A page's route: a query the route cannot take gets a page saying so, never FastAPI's
JSON 422 (a guard reads pages; the API under /api/v1 keeps its JSON errors)."""

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SEARCH_PAGES = ("/log", "/report")
LOG_PAGE = 50
LANG = LanguageCookie("kakou_lang")
LANG_COOKIE = LANG.name
lang_of = LANG.of
SIM_CASES = ("resident", "temporary", "expired", "forged")


SHIFT_ASSETS = ("shift.css", "shift.js")
"""On every page: the gate-mode banner kept current, the search fields' problems."""


@dataclass(frozen=True)
class ModeInForce:
    """A lane out of its normal mode, as the banner on every page says it; who set it, when
    and why only for a signed-in guard (``by`` empty otherwise)."""

    lane: str
    mode: str
    by: str = ""
    at: str = ""
    reason: str = ""


def modes_in_force(context: ConsoleContext, guard: Guard | None) -> list[ModeInForce]:
    """Each lane not in normal mode, with the mode change that put it there (the ledger's
    entry: the guard and the written reason)."""
    found = []
    for lane_id, lane in context.lanes.items():
        mode = lane.snapshot()["mode"]
        if mode == GateMode.NORMAL.value:
            continue
        if guard is None:
            found.append(ModeInForce(lane_id, mode))
            continue
        changes = context.store.entries(
            lane=lane_id, outcome=Outcome.MODE_CHANGE, newest_first=True, limit=1
        )
        if not changes:
            found.append(ModeInForce(lane_id, mode))
            continue
        draft = changes[0].draft
        by = draft.guard_id or ""
        names = {g.id: g.name for g in context.guards.all()}
        at = draft.decided_at.astimezone(context.zone).strftime("%m-%d %H:%M")
        found.append(ModeInForce(lane_id, mode, names.get(by, by), at, draft.guard_note or ""))
    return found


def render(
    request: Request,
    template: str,
    title: str,
    *,
    guard: Guard | None = None,
    current: str = "",
    body_class: str = "",
    assets: tuple[str, ...] = (),
    lang: str | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """``template`` in the layout: header and navigation (but on the kiosk), the language switch,
    the scripts and the words they need. ``title`` is a message id."""
    modes = [] if body_class == "kiosk" else modes_in_force(get_context(request), guard)
    return layout_page(
        templates,
        request,
        template,
        {
            "title": title,
            "guard": guard,
            "current": current,
            "body_class": body_class,
            "assets": (*SHIFT_ASSETS, *assets),
            "gate_modes": modes,
            **values,
        },
        lang=lang_of(request) if lang is None else lang,
        back_to=current or "/",
        status_code=status_code,
    )


def need_sign_in(request: Request) -> Response:
    return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)


@router.get("/lang/{to}")
def switch_language(request: Request, to: Literal["zh", "en"], next: str = "/") -> RedirectResponse:
    """Remember the language on this device for a year, and go back to the page it came from
    (a path on this console only: never an address elsewhere)."""
    return LANG.switch(request, to, next)


@router.get("/login")
def login(request: Request, next: str = "/") -> Response:
    """The sign-in form; after it the script goes to ``next``, checked here (``local_path``)."""
    return render(request, "login.html", "nav.sign_in", current="/login", next=local_path(next))


@router.get("/mode-banner")
def mode_banner(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    """The gate-mode banner alone, for a page to refresh it in place when a lane's mode changed."""
    return templates.TemplateResponse(
        request,
        "_mode_banner.html",
        {"lang": lang_of(request), "gate_modes": modes_in_force(context, guard)},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/")
def live_view(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    if guard is None:
        return need_sign_in(request)
    return render(
        request,
        "live.html",
        "nav.live",
        guard=guard,
        current="/",
        lanes=list(context.lanes),
        lane_modes={lane_id: lane.snapshot()["mode"] for lane_id, lane in context.lanes.items()},
        simulation=context.simulation is not None,
        sim_cases=SIM_CASES,
    )


MAX_TEXT_FILTER = {"household": 64, "pass_id": 128, "lane": 64}


@dataclass
class Search:
    """A page's search as its form sent it: each field empty (no filter), a value, or a
    problem to show at that field (a message id)."""

    problems: dict[str, str]

    def day(self, text: str) -> date | None:
        if not text.strip():
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            self.problems["day"] = "search.bad_day"
            return None

    def outcome(self, text: str) -> Outcome | None:
        if not text:
            return None
        try:
            return Outcome(text)
        except ValueError:
            self.problems["outcome"] = "search.bad_outcome"
            return None

    def text(self, name: str, text: str) -> str | None:
        text = text.strip()
        if len(text) > MAX_TEXT_FILTER[name]:
            self.problems[name] = "search.too_long"
            return None
        return text or None

    def seq(self, text: str) -> int | None:
        if not text:
            return None
        if not text.isdigit() or len(text) > 18:
            self.problems["before_seq"] = "search.bad_page"
            return None
        return int(text)


def day_window(day: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """A searched day as a time window, from its local midnight to the next; no day, no
    window."""
    if day is None:
        return None, None
    since = datetime.combine(day, time(0), tzinfo=zone)
    return since, since + timedelta(days=1)


def filters_given(values: Mapping[str, str | None]) -> dict[str, str]:
    """A search's filters with a value: an empty one filters nothing, so the page neither shows
    it nor carries it to the older page."""
    return {name: value for name, value in values.items() if value}


def older_page_query(
    filters: Mapping[str, str], cursor: str, positions: Sequence[int], page_size: int
) -> str:
    """The older page's query string: the same filters, continuing below the last of this page's
    ``positions`` (newest first); empty when this page was not full, so nothing is older."""
    if len(positions) < page_size:
        return ""
    return urlencode({**filters, cursor: positions[-1]})


@router.get("/log")
def log_page(
    request: Request,
    context: ContextDep,
    guard: MaybeGuardDep,
    day: str = "",
    outcome: str = "",
    household: str = "",
    pass_id: str = "",
    lane: str = "",
    before_seq: str = "",
) -> Response:
    """The log, searched by any of its fields or none: an empty field is no filter, and a
    value that is no date, decision or page gets the page back with the problem at its field."""
    if guard is None:
        return need_sign_in(request)
    lang = lang_of(request)
    zone = context.zone
    search = Search({})
    the_day, the_outcome = search.day(day), search.outcome(outcome)
    texts = {
        name: search.text(name, value)
        for name, value in (("household", household), ("pass_id", pass_id), ("lane", lane))
    }
    older_than = search.seq(before_seq)
    since, until = day_window(the_day, zone)
    entries = (
        []
        if search.problems
        else context.store.entries(
            since=since,
            until=until,
            outcome=the_outcome,
            household=texts["household"],
            pass_id=texts["pass_id"],
            lane=texts["lane"],
            before_seq=older_than,
            newest_first=True,
            limit=LOG_PAGE,
        )
    )
    names = ledger_names(context, lang)
    rows = [ledgers.register_row(e, zone, names) for e in entries]
    if lang == "en":
        for row, entry in zip(rows, entries, strict=True):
            draft = entry.draft
            row[3] = messages.term("direction", draft.direction.value, lang)
            row[5] = messages.term("kind", draft.pass_kind.value, lang) if draft.pass_kind else ""
            row[10] = messages.term("outcome", draft.outcome.value, lang)
            row[11] = "; ".join(messages.term("reason", r, lang) for r in draft.reasons)
    # What the form shows again: the guard's own text, also where it was refused.
    shown = {
        "day": day.strip(),
        "outcome": outcome,
        "household": household.strip(),
        "pass_id": pass_id.strip(),
        "lane": lane.strip(),
    }
    filters = filters_given(
        {
            "day": the_day.isoformat() if the_day else None,
            "outcome": the_outcome.value if the_outcome else None,
            **texts,
        }
    )
    # The exports take the log's filters, the day as a time window (its local midnights).
    export_query = {k: v for k, v in filters.items() if k != "day"}
    if since and until:
        export_query.update(since=since.isoformat(), until=until.isoformat())
    older = older_page_query(filters, "before_seq", [e.seq for e in entries], LOG_PAGE)
    return render(
        request,
        "log.html",
        "nav.log",
        lang=lang,
        guard=guard,
        current="/log",
        status_code=422 if search.problems else 200,
        filters=shown,
        problems=search.problems,
        outcomes=[o.value for o in Outcome],
        outcome=the_outcome.value if the_outcome else None,
        lanes=list(context.lanes),
        lane=lane.strip(),
        export_query=urlencode(export_query),
        columns=messages.LOG_COLUMNS,
        rows=rows,
        older_query=older,
    )


CHART_COLOURS = {
    "passed": "#2e9e5b",
    "overridden": "#d9a400",
    "denied": "#8a8f98",
    "fever": "#d7263d",
    "abandoned": "#4a78c2",
    "mode_change": "#6b4fbb",
}


@dataclass(frozen=True)
class Bar:
    hour: int
    outcome: str
    count: int
    colour: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class HourlyChart:
    """Stacked bars per hour, in SVG user units: passed green, denied grey, fever red…"""

    top: int
    bars: list[Bar]
    hour_labels: list[float]
    colours: list[tuple[str, str]]
    width: int = 720
    height: int = 240
    pad: int = 30


def hourly_chart(hours: dict[str, list[int]]) -> HourlyChart:
    width, height, pad = HourlyChart.width, HourlyChart.height, HourlyChart.pad
    top = max([*(sum(hours[o][h] for o in hours) for h in range(24)), 1])
    step = (width - pad) / 24
    bars = []
    for h in range(24):
        y = float(height)
        for outcome, colour in CHART_COLOURS.items():
            n = hours.get(outcome, [0] * 24)[h]
            if not n:
                continue
            bar_h = n / top * (height - 20)
            y -= bar_h
            bars.append(Bar(h, outcome, n, colour, pad + h * step + 2, y, step - 4, bar_h))
    labels = [pad + h * step + step / 2 for h in range(24)]
    return HourlyChart(top, bars, labels, list(CHART_COLOURS.items()))


@router.get("/report")
def report_page(
    request: Request, context: ContextDep, guard: MaybeGuardDep, day: str = ""
) -> Response:
    """The daily report of ``day``; an empty day is today, one that is no date is today's
    report with the problem shown at the field."""
    if guard is None:
        return need_sign_in(request)
    zone = context.zone
    search = Search({})
    the_day = search.day(day) or context.now().astimezone(zone).date()
    hours = ledgers.hourly_counts(context.store, datetime.combine(the_day, time(0), tzinfo=zone))
    return render(
        request,
        "report.html",
        "nav.report",
        guard=guard,
        current="/report",
        status_code=422 if search.problems else 200,
        day=the_day.isoformat(),
        typed_day=day.strip() if search.problems else the_day.isoformat(),
        problems=search.problems,
        totals=[(o, sum(counts)) for o, counts in hours.items()],
        chart=hourly_chart(hours),
    )


def byte_size(n: int | None) -> str:
    return messages.text("zh", "none") if n is None else size_text(n)


@router.get("/status")
def status_page(request: Request, context: ContextDep, guard: MaybeGuardDep) -> Response:
    """Devices, lanes, sync, clock, storage and open alarms, as ``GET /api/v1/status`` has them;
    for a signed-in guard also the keys the gate trusts and the trust audit (docs/passes.md)."""
    zone = context.zone

    def when(at: datetime | None) -> str:
        if at is None:
            return messages.text("zh", "none")
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return render(
        request,
        "status.html",
        "nav.status",
        guard=guard,
        current="/status",
        status=gate_status(context, hub_of(request)),
        trust=trust_state(context) if guard else None,
        when=when,
        when_text=lambda text: when(datetime.fromisoformat(text)),
        size=byte_size,
    )


@router.get("/kiosk")
def kiosk(request: Request, context: ContextDep, lane: str | None = None) -> Response:
    lane_id = lane if lane is not None and lane in context.lanes else next(iter(context.lanes))
    return render(request, "kiosk.html", "nav.kiosk", lang="zh", body_class="kiosk", lane=lane_id)
