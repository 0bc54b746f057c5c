"""sync/office/notice.py and /notice: one community's day in counts, by building, naming
nobody; "今日无新增" on a day without a new fever case."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from sync.office.context import OfficeContext
from sync.office.notice import daily_notice
from sync.receiver.db import ReceiverDb
from tests.office.ledger_data import DAY_START, SHANGHAI, Visits, import_roster, store

AT = DAY_START + timedelta(hours=8)


def two_days(db: ReceiverDb) -> None:
    """The 23rd with a fever in building 3; the 24th with entries and none."""
    v = Visits()
    v.visit(AT, household="3-2-501", holder="王小明")
    v.fever(AT + timedelta(minutes=1), household="3-2-502", pass_id="R-0777")
    v.visit(AT + timedelta(minutes=2), gate="south", household="5-1-101")
    v.visit(AT + timedelta(days=1), household="5-1-101")
    v.visit(AT + timedelta(days=1, minutes=1), temps=(37.5, 36.8))  # cleared: not a new case
    store(db, v.made)
    import_roster(db)


def test_the_notice_counts_the_day_and_its_new_fevers(office_db: ReceiverDb) -> None:
    two_days(office_db)
    notice = daily_notice(office_db, "hxy", date(2026, 11, 23), SHANGHAI)
    assert (notice.gates, notice.counts["total"], notice.fevers) == (2, 3, 1)
    assert not notice.nothing_new
    assert [(g.group, g.fevers) for g in notice.by_building] == [("3号楼", 1), ("5号楼", 0)]
    quiet = daily_notice(office_db, "hxy", date(2026, 11, 24), SHANGHAI)
    assert (quiet.counts["total"], quiet.fevers, quiet.nothing_new) == (2, 0, True)


def test_the_printable_page_says_nothing_new_and_names_nobody(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    two_days(office_context.db)
    quiet = officer_client.get("/notice", params={"day": "2026-11-24"})
    assert quiet.status_code == 200
    assert 'id="nothing-new"' in quiet.text
    assert "今日无新增" in quiet.text
    assert "/static/notice.css" in quiet.text
    assert "/static/notice.js" in quiet.text
    busy = officer_client.get("/notice", params={"day": "2026-11-23"})
    assert 'id="fevers-line"' in busy.text
    assert 'id="nothing-new"' not in busy.text
    for personal in ("王", "R-0777", "3-2-502"):
        assert personal not in busy.text.split('id="daily-notice"')[1]
    assert officer_client.get("/notice", params={"community": "lhy"}).status_code == 403
    assert officer_client.get("/notice", params={"day": "24.11."}).status_code == 400
    assert officer_client.get("/static/notice.css").status_code == 200
