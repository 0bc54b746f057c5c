"""What the pages reading the gates' entries share (the daily report, the fever ledger, the
register): the office days a form asks for, and the CSV or XLSX download of a table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from fastapi.responses import StreamingResponse

from edge.console.ledgers import Cells, csv_chunks, xlsx_chunks
from sync.office.context import OfficeContext
from sync.office.register import Position
from sync.office.reports import day_span

Format = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 366


def today(context: OfficeContext) -> date:
    """Today in the office's zone."""
    return context.now().astimezone(context.zone).date()


def office_day(context: OfficeContext, text: str | None) -> date | None:
    """The day asked for (``YYYY-MM-DD``), today when none; None when it is not a day."""
    if not text:
        return today(context)
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Days:
    """Office days ``first`` to ``last`` (both included), and the times they span."""

    first: date
    last: date
    start: datetime
    end: datetime


def office_days(context: OfficeContext, since: str, until: str = "") -> Days | None:
    """The days asked for (``until`` none: the one day ``since``; both none: today); None when
    a day is not one, or the range runs backwards or past a year."""
    first = office_day(context, since)
    last = office_day(context, until or since)
    if first is None or last is None or last < first or (last - first).days >= MAX_DAYS:
        return None
    start, _ = day_span(first, context.zone)
    _, end = day_span(last, context.zone)
    return Days(first, last, start, end)


class Paged(Protocol):
    """A ledger read a page at a time (``register.RegisterPage``, ``fevers.FeverPage``)."""

    @property
    def next(self) -> Position | None: ...


def next_token(page: Paged | None) -> str | None:
    """What the page's "more" link gives as ``after``; None on the last page or none read."""
    return None if page is None or page.next is None else page.next.token()


def download(
    context: OfficeContext,
    fmt: Format,
    name: str,
    title: str,
    headings: Sequence[str],
    rows: Iterable[Cells],
) -> StreamingResponse:
    """A streamed CSV (UTF-8 with a BOM) or XLSX named ``kakou-<name>-<office time>``."""
    stamp = context.now().astimezone(context.zone).strftime("%Y%m%d-%H%M")
    headers = {
        "Content-Disposition": f'attachment; filename="kakou-{name}-{stamp}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return StreamingResponse(
            csv_chunks(headings, rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    return StreamingResponse(
        xlsx_chunks(title, headings, rows), media_type=XLSX_TYPE, headers=headers
    )
