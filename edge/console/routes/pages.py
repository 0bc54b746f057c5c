"""Server-rendered pages: sign-in, live lane view, log, daily report, status and the kiosk.

Plain HTML from the templates in ``edge/console/templates`` (Jinja2, every value escaped), one
small script and one stylesheet, all served by the gate (no CDN: the guard post is often
offline). Routes work out what a page shows and hand it to its template; the words come from the
catalogue (``edge/console/messages.py``). Chinese first; the language switch is a cookie the
server reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edge.console import ledgers, messages
from edge.console.auth import MaybeGuardDep
from edge.console.deps import ContextDep
from edge.console.routes.ledgers import ledger_names
from edge.console.routes.live import hub_of
from edge.console.routes.status import gate_status, trust_state
from edge.console.templating import templates
from edge.model import Outcome
from edge.store.guards import Guard

router = APIRouter(include_in_schema=False)

LOG_PAGE = 50
LANG_COOKIE = "kakou_lang"
SIM_CASES = ("resident", "temporary", "expired", "forged")


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


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
    **values: Any,
) -> HTMLResponse:
    """``template`` in the layout: header and navigation (but on the kiosk), the language switch,
    the scripts and the words they need. ``title`` is a message id."""
    lang = lang_of(request) if lang is None else lang
    other = "zh" if lang == "en" else "en"
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "title": title,
            "guard": guard,
            "current": current,
            "body_class": body_class,
            "assets": assets,
            "switch_href": f"/lang/{other}?{urlencode({'next': current or '/'})}",
            **values,
        },
        headers={"Cache-Control": "no-store"},
    )


def need_sign_in(request: Request) -> Response:
    return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)


def local_path(next: str | None) -> str:
    """``next`` if it is a path on this console, else ``/``: never an address elsewhere.

    Browsers read ``//evil`` and ``/\\evil`` as another host, and drop tabs and line breaks
    first (``/\\t/evil`` is ``//evil``), so a backslash or any control character or space
    anywhere refuses it, as does a second leading slash."""
    if not next or not next.startswith("/") or next.startswith("//"):
        return "/"
    if "\\" in next or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in next):
        return "/"
    parts = urlsplit(next)
    return "/" if parts.scheme or parts.netloc else next


@router.get("/lang/{to}")
def switch_language(to: Literal["zh", "en"], next: str = "/") -> RedirectResponse:
    """Remember the language on this device for a year, and go back to the page it came from
    (a path on this console only: never an address elsewhere)."""
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(LANG_COOKIE, to, max_age=365 * 24 * 3600, path="/", samesite="strict")
    return response


@router.get("/login")
def login(request: Request, next: str = "/") -> Response:
    """The sign-in form; after it the script goes to ``next``, checked here (``local_path``)."""
    return render(request, "login.html", "nav.sign_in", current="/login", next=local_path(next))


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
        simulation=context.simulation is not None,
        sim_cases=SIM_CASES,
    )


@router.get("/log")
def log_page(
    request: Request,
    context: ContextDep,
    guard: MaybeGuardDep,
    day: date | None = None,
    outcome: Outcome | None = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    pass_id: Annotated[str | None, Query(max_length=128)] = None,
    lane: Annotated[str | None, Query(max_length=64)] = None,
    before_seq: int | None = None,
) -> Response:
    if guard is None:
        return need_sign_in(request)
    lang = lang_of(request)
    zone = context.zone
    since = until = None
    if day is not None:
        since = datetime.combine(day, time(0), tzinfo=zone)
        until = since + timedelta(days=1)
    entries = context.store.entries(
        since=since,
        until=until,
        outcome=outcome,
        household=household or None,
        pass_id=pass_id or None,
        lane=lane or None,
        before_seq=before_seq,
        newest_first=True,
        limit=LOG_PAGE,
    )
    names = ledger_names(context, lang)
    rows = [ledgers.register_row(e, zone, names) for e in entries]
    if lang == "en":
        for row, entry in zip(rows, entries, strict=True):
            row[10] = messages.term("outcome", entry.draft.outcome.value, lang)
            row[11] = "; ".join(messages.term("reason", r, lang) for r in entry.draft.reasons)
    filters = {
        k: v
        for k, v in {
            "day": day.isoformat() if day else None,
            "outcome": outcome.value if outcome else None,
            "household": household or None,
            "pass_id": pass_id or None,
            "lane": lane or None,
        }.items()
        if v
    }
    # The exports take the log's filters, the day as a time window (its local midnights).
    export_query = {k: v for k, v in filters.items() if k != "day"}
    if since and until:
        export_query.update(since=since.isoformat(), until=until.isoformat())
    older = (
        urlencode({**filters, "before_seq": entries[-1].seq}) if len(entries) == LOG_PAGE else ""
    )
    return render(
        request,
        "log.html",
        "nav.log",
        lang=lang,
        guard=guard,
        current="/log",
        filters=filters,
        outcomes=[o.value for o in Outcome],
        outcome=outcome.value if outcome else None,
        lanes=list(context.lanes),
        lane=lane,
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
    request: Request, context: ContextDep, guard: MaybeGuardDep, day: date | None = None
) -> Response:
    if guard is None:
        return need_sign_in(request)
    zone = context.zone
    day = day or context.now().astimezone(zone).date()
    hours = ledgers.hourly_counts(context.store, datetime.combine(day, time(0), tzinfo=zone))
    return render(
        request,
        "report.html",
        "nav.report",
        guard=guard,
        current="/report",
        day=day.isoformat(),
        totals=[(o, sum(counts)) for o, counts in hours.items()],
        chart=hourly_chart(hours),
    )


def byte_size(n: int | None) -> str:
    if n is None:
        return messages.text("zh", "none")
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


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
