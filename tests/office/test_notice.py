"""sync/office/notice.py and /notice: one community's day in counts, by building, naming
nobody; the fever ledger's figures for the day (found, handled, still open), never claiming a
case handled that the ledger shows open; "今日无新增" on a day the ledger lists nothing."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from edge.model import Outcome
from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from sync.office.fevers import FeverTally
from sync.office.notice import daily_notice
from sync.receiver.db import ReceiverDb
from tests.office.ledger_data import (
    DAY_START,
    SHANGHAI,
    Visits,
    acknowledge_fever,
    import_roster,
    raise_fever_alerts,
    store,
)

AT = DAY_START + timedelta(hours=8)
SOME_OPEN, ALL_HANDLED, QUIET = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)


def three_days(db: ReceiverDb, officer: Officer) -> None:
    """The 23rd: a fever in building 3 whose alert an officer acknowledged, one nobody has, one
    cleared at the re-measure and one gone before it; the 24th: a fever acknowledged and one
    cleared; the 25th: entries, nobody over the line."""
    v = Visits()
    v.visit(AT, household="3-2-501", holder="王小明")
    acked = v.fever(AT + timedelta(minutes=1), household="3-2-502", pass_id="R-0777")
    waiting = v.fever(AT + timedelta(minutes=2), gate="south", household="5-1-101")
    v.visit(AT + timedelta(minutes=3), temps=(37.5, 36.8))
    gone = v.visit(
        AT + timedelta(minutes=4),
        gate="south",
        outcome=Outcome.ABANDONED,
        temps=(38.0,),
        reasons=("fever_not_confirmed",),
    )
    next_day = v.fever(AT + timedelta(days=1), household="5-1-101")
    v.visit(AT + timedelta(days=1, minutes=1), temps=(37.5, 36.8))
    v.visit(AT + timedelta(days=2), household="5-1-101")
    v.visit(AT + timedelta(days=2, minutes=1), gate="south")
    store(db, v.made)
    raise_fever_alerts(db, [acked, waiting, gone, next_day])
    for entry in (acked, next_day):
        acknowledge_fever(db, entry, officer, "已送发热门诊", AT + timedelta(days=1))
    import_roster(db)


def test_the_notice_counts_the_day_and_the_ledgers_cases(
    office_db: ReceiverDb, officer: Officer
) -> None:
    three_days(office_db, officer)
    busy = daily_notice(office_db, "hxy", SOME_OPEN, SHANGHAI)
    assert (busy.gates, busy.counts["total"], busy.counts["fevers"]) == (2, 5, 2)
    assert busy.fevers == FeverTally(found=4, acknowledged=1, cleared=1, overridden=0, open=2)
    assert busy.fevers.handled == 2
    assert not busy.nothing_new
    assert [(g.group, g.total, g.fevers) for g in busy.by_building] == [
        ("3号楼", 4, 1),
        ("5号楼", 1, 1),
    ]
    handled = daily_notice(office_db, "hxy", ALL_HANDLED, SHANGHAI)
    assert handled.fevers == FeverTally(found=2, acknowledged=1, cleared=1, overridden=0, open=0)
    assert not handled.nothing_new
    quiet = daily_notice(office_db, "hxy", QUIET, SHANGHAI)
    assert (quiet.counts["total"], quiet.fevers, quiet.nothing_new) == (2, FeverTally.of([]), True)


def test_the_printable_page_gives_the_figures_and_names_nobody(
    office_context: OfficeContext, officer: Officer, officer_client: TestClient
) -> None:
    three_days(office_context.db, officer)
    busy = officer_client.get("/notice", params={"day": SOME_OPEN.isoformat()})
    assert busy.status_code == 200
    notice = busy.text.split('id="daily-notice"')[1]
    assert "今日发现体温超过发热线人员 4 人次" in notice
    assert "已处置 2 人次：告警经办公室确认 1 人次，复测正常放行 1 人次。" in notice
    assert 'id="fevers-open" data-open="2"' in notice
    assert "尚有 2 人次未处置" in notice
    assert 'id="fevers-all-handled"' not in notice  # never "all handled" with cases open
    assert 'id="nothing-new"' not in notice
    for personal in ("王", "R-0777", "3-2-502", "已送发热门诊"):
        assert personal not in notice
    handled = officer_client.get("/notice", params={"day": ALL_HANDLED.isoformat()}).text
    assert 'id="fevers-all-handled"' in handled
    assert "均已处置" in handled
    assert 'id="fevers-open"' not in handled
    quiet = officer_client.get("/notice", params={"day": QUIET.isoformat()})
    assert quiet.status_code == 200
    assert 'id="nothing-new"' in quiet.text
    assert "今日无新增" in quiet.text
    assert 'id="fevers-line"' not in quiet.text
    assert "/static/notice.css" in quiet.text
    assert "/static/notice.js" in quiet.text
    officer_client.get("/lang/en")
    english = officer_client.get("/notice", params={"day": SOME_OPEN.isoformat()}).text
    assert "Over the fever line today: 4 " in english
    assert "Handled: 2 (alert acknowledged by the office: 1; normal at the re-measure" in english
    assert "Not yet handled: 2." in english
    assert (
        "All of them handled."
        in officer_client.get("/notice", params={"day": ALL_HANDLED.isoformat()}).text
    )
    assert officer_client.get("/notice", params={"community": "lhy"}).status_code == 403
    assert officer_client.get("/notice", params={"day": "24.11."}).status_code == 400
    assert officer_client.get("/static/notice.css").status_code == 200
