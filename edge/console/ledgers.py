"""The ledgers (台账) as the office files them: the entry register and the fever ledger.

Column headings are the ones on the paper forms (小区卡点出入人员登记表, 发热症状人员台账), so
an export can be printed or merged into the district's spreadsheet without renaming columns.
Rows are built from stored entries only; exports walk the log by seq in pages (keyset), so a
month of entries never sits in memory at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edge.console import i18n
from edge.model import Entry, Outcome
from edge.store import Store

EXPORT_PAGE = 5000

REGISTER_HEADINGS: tuple[str, ...] = (
    "序号",
    "时间",
    "通道",
    "方向",
    "通行证号",
    "类别",
    "姓名",
    "住户",
    "体温(°C)",
    "问询",
    "结果",
    "原因",
    "值守人员",
    "备注",
)
FEVER_HEADINGS: tuple[str, ...] = (
    "序号",
    "时间",
    "姓名",
    "住户",
    "通行证号",
    "体温(°C)",
    "处置",
    "值守人员",
    "备注",
)
DIRECTIONS = {"in": "进", "out": "出"}


def mask_phone(phone: str) -> str:
    """138****5678: a listed phone number shows only what a guard needs to recognise it."""
    digits = phone.strip()
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) >= 7 else "***"


def _time(entry: Entry, zone: ZoneInfo) -> str:
    return entry.draft.decided_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _temperatures(entry: Entry) -> str:
    return " ".join(
        f"{t.body_c:.1f}{'(手持)' if t.reading.manual else ''}" for t in entry.draft.temperatures
    )


def register_row(entry: Entry, zone: ZoneInfo) -> list[str | int]:
    draft = entry.draft
    return [
        entry.seq,
        _time(entry, zone),
        draft.lane,
        DIRECTIONS.get(draft.direction.value, draft.direction.value),
        draft.pass_id or "",
        i18n.zh(i18n.KINDS, draft.pass_kind.value) if draft.pass_kind else "",
        draft.holder or "",
        draft.household or "",
        _temperatures(entry),
        "；".join(f"{q}={a}" for q, a in draft.answers),
        i18n.zh(i18n.OUTCOMES, draft.outcome.value),
        "；".join(i18n.zh(i18n.REASONS, r) for r in draft.reasons),
        draft.guard_id or "",
        draft.guard_note or "",
    ]


def fever_row(entry: Entry, zone: ZoneInfo) -> list[str | int]:
    draft = entry.draft
    handled = "劝返，复测确认发热，已上报" if draft.outcome is Outcome.FEVER else "复测正常，放行"
    return [
        entry.seq,
        _time(entry, zone),
        draft.holder or "",
        draft.household or "",
        draft.pass_id or "",
        _temperatures(entry),
        handled,
        draft.guard_id or "",
        draft.guard_note or "",
    ]


def is_fever_case(entry: Entry) -> bool:
    """Fever ledger: everyone with any reading at or above the line, confirmed or not."""
    return entry.draft.outcome is Outcome.FEVER or any(t.fever for t in entry.draft.temperatures)


def walk_entries(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: Outcome | None = None,
    household: str | None = None,
) -> Iterator[Entry]:
    """Every matching entry in seq order, fetched a page at a time."""
    after: int | None = None
    while True:
        page = store.entries(
            since=since,
            until=until,
            outcome=outcome,
            household=household,
            after_seq=after,
            limit=EXPORT_PAGE,
        )
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].seq


def csv_chunks(headings: Iterable[str], rows: Iterable[list[str | int]]) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel on a Chinese Windows opens the headings correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(list(headings))
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_bytes(title: str, headings: Iterable[str], rows: Iterable[list[str | int]]) -> bytes:
    """One sheet, write-only mode (constant memory), headings frozen on top."""
    from openpyxl import Workbook  # imported on use: only exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.append(list(headings))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def hourly_counts(store: Store, day_start: datetime) -> dict[str, list[int]]:
    """Entries per local hour of one day, per outcome (the daily report, 日报)."""
    counts: dict[str, list[int]] = {o.value: [0] * 24 for o in Outcome}
    for entry in walk_entries(store, since=day_start, until=day_start + timedelta(days=1)):
        hour = entry.draft.decided_at.astimezone(day_start.tzinfo).hour
        counts[entry.draft.outcome.value][hour] += 1
    return counts
