"""Exports of the entry register and the fever ledger (CSV, XLSX) and the daily report's counts."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from edge.console import ledgers
from edge.console.auth import GuardDep
from edge.console.deps import ConsoleContext, ContextDep
from edge.console.filters import EntryFiltersDep
from edge.lane import OFFICE

router = APIRouter(prefix="/api/v1", tags=["ledgers"])

Ledger = ledgers.Ledger
Format = Literal["csv", "xlsx"]
TITLES = {"entries": "出入人员登记表", "fever": "发热症状人员台账"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DailyReport(BaseModel):
    day: date
    timezone: str
    hours: dict[str, list[int]]
    totals: dict[str, int]


def ledger_names(context: ConsoleContext, lang: str = "zh") -> ledgers.LedgerNames:
    """The names a ledger shows for the ids entries store: the policy's questions, in the
    page's language, and every guard account's name."""
    policy = context.policy
    english = lang == "en"
    return ledgers.LedgerNames(
        questions={
            qid: question.text_en if english else question.text_zh
            for qid, question in policy.questions.items()
        },
        answer_words=ledgers.ANSWER_WORDS_EN if english else ledgers.ANSWER_WORDS_ZH,
        guards={
            OFFICE: "Community office" if english else "社区办公室",  # a mode its policy ordered
            **{guard.id: guard.name for guard in context.guards.all()},
        },
    )


@router.get(
    "/exports/{ledger}.{fmt}",
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}}},
    response_class=Response,
)
def export(
    ledger: Ledger,
    fmt: Format,
    context: ContextDep,
    guard: GuardDep,
    filters: EntryFiltersDep,
) -> Response:
    """Download a ledger, streamed, filtered as the entry log is; the export itself is logged
    with its filters (personal data leaving the gate).

    A plain ``def``: FastAPI runs it on a worker thread, and the streamed body is produced on
    worker threads chunk by chunk, so the event loop (the live view's stream) is never blocked.
    """
    zone = context.zone
    headings, rows = ledgers.export_rows(
        context.store, ledger, zone, ledger_names(context), **filters
    )
    used = {name: value for name, value in filters.items() if value is not None}
    detail = {"ledger": ledger, "format": fmt, "filters": jsonable_encoder(used)}
    context.guards.audit(context.now(), guard.id, "export", None, detail)
    stamp = context.now().astimezone(zone).strftime("%Y%m%d-%H%M")
    filename = f"kakou-{ledger}-{stamp}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return StreamingResponse(
            ledgers.csv_chunks(headings, rows),
            media_type="text/csv; charset=utf-8",
            headers=disposition,
        )
    return StreamingResponse(
        ledgers.xlsx_chunks(TITLES[ledger], headings, rows),
        media_type=XLSX_TYPE,
        headers=disposition,
    )


@router.get("/report/daily", response_model=DailyReport)
def daily_report(context: ContextDep, guard: GuardDep, day: date | None = None) -> DailyReport:
    zone = context.zone
    day = day or context.now().astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    hours = ledgers.hourly_counts(context.store, start)
    return DailyReport(
        day=day,
        timezone=str(zone),
        hours=hours,
        totals={outcome: sum(counts) for outcome, counts in hours.items()},
    )
