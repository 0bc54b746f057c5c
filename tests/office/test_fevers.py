"""sync/office/fevers.py and /fever: every fever case of the officer's gates in a range of
office days, oldest first across gates, a cleared re-measure included and saying so, the holder
masked, the readings as measured; the XLSX export with the paper ledger's headings."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient

from edge.console.ledgers import FEVER_DONE_WORDS, FeverDone
from edge.model import Outcome
from sync.office import fevers
from sync.office.accounts import Officer
from sync.office.context import OfficeContext
from sync.office.register import Position
from sync.receiver.db import ReceiverDb
from tests.office.ledger_data import (
    DAY_START,
    SHANGHAI,
    Visits,
    acknowledge_fever,
    raise_fever_alerts,
    store,
)

BOTH = pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
AT = DAY_START + timedelta(hours=8)
DAY_END = DAY_START + timedelta(days=1)
HANDLED_CELLS = re.compile(r'class="handled">([^<]*)</td>')
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def a_day_with_fevers(db: ReceiverDb) -> Visits:
    v = Visits()
    v.visit(AT, household="3-2-501")  # normal: not in the ledger
    v.fever(AT + timedelta(minutes=30), gate="south", household="5-1-101", holder="张三丰")
    v.visit(AT + timedelta(minutes=10), temps=(37.6, 36.9), household="3-2-502")  # cleared
    v.fever(AT + timedelta(hours=2), household="3-2-501", lane="in-2")
    v.fever(DAY_END + timedelta(minutes=1))  # the next day
    other = Visits("lhy")
    other.fever(AT)
    store(db, v.made + other.made)
    return v


@BOTH
def test_the_ledger_lists_every_case_oldest_first_across_gates(office_db: ReceiverDb) -> None:
    v = a_day_with_fevers(office_db)
    page = fevers.ledger(office_db, ["hxy"], DAY_START, DAY_END, SHANGHAI)
    assert [case.row.id for case in page.cases] == [v.made[i].id for i in (2, 1, 3)]
    cleared, south, north = page.cases
    assert (cleared.row.ledger.outcome, cleared.handling.done) == (Outcome.PASSED.value, "cleared")
    assert cleared.cells[9] == "复测正常，放行"
    assert (south.handling.done, south.readings) == ("held", "38.2 38.4")
    assert south.cells[9] == "复测确认发热，未放行（未见处置记录）"
    assert (south.handling.open, cleared.handling.open) == (True, False)
    assert south.cells[:3] == ["hxy", "south", "in-1"]
    assert south.cells[5] == "张*"  # the whole name the pass carried, masked
    assert north.cells[2] == "in-2"
    assert north.cells[4] == "2026-11-23 10:00:00"
    assert page.next is None


def test_the_ledger_pages_without_a_gap(office_db: ReceiverDb) -> None:
    v = Visits()
    for index in range(7):
        v.fever(AT + timedelta(minutes=index // 2), gate=("north", "south")[index % 2])
    store(office_db, v.made)
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = fevers.ledger(office_db, ["hxy"], DAY_START, DAY_END, SHANGHAI, after=after, limit=3)
        seen += [case.row.id for case in page.cases]
        if page.next is None:
            break
        after = page.next
    assert seen == [e.id for e in sorted(v.made, key=lambda e: (e.draft.decided_at, e.id))]


def test_the_page_and_the_xlsx_export(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    a_day_with_fevers(office_context.db)
    page = officer_client.get("/fever", params={"since": "2026-11-23", "until": "2026-11-23"})
    assert page.status_code == 200
    assert page.text.count('data-entry="') == 3
    assert "张三丰" not in page.text
    assert "38.2 38.4" in page.text
    answer = officer_client.get(
        "/fever/export.xlsx", params={"since": "2026-11-23", "until": "2026-11-24"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "社区", "卡口", "通道", "序号", "时间", "姓名", "住户", "通行证号", "体温(°C)", "处置",
        "值守人员", "备注",
    ]  # fmt: skip
    assert len(rows) == 1 + 4  # the next day's case too; never lhy's
    assert {row[0] for row in rows[1:]} == {"hxy"}
    bad = officer_client.get("/fever", params={"since": "2026-11-24", "until": "2026-11-23"})
    assert bad.status_code == 400
    assert 'id="form-error"' in bad.text
    empty = officer_client.get("/fever", params={"since": "2026-11-20"})
    assert 'id="fever-empty"' in empty.text


def test_what_was_done_comes_from_the_officers_acknowledgement_of_the_alert(
    office_context: OfficeContext, officer: Officer, officer_client: TestClient
) -> None:
    db = office_context.db
    v = a_day_with_fevers(db)
    south_fever, north_fever = v.made[1], v.made[3]
    raise_fever_alerts(db, [south_fever, north_fever])
    acknowledge_fever(
        db, south_fever, officer, "已送发热门诊，社区医生陪同", AT + timedelta(hours=3)
    )
    cases = {
        case.row.id: case for case in fevers.ledger(db, ["hxy"], DAY_START, DAY_END, SHANGHAI).cases
    }
    acked, open_alert = cases[south_fever.id], cases[north_fever.id]
    assert acked.cells[9:11] == ["已送发热门诊，社区医生陪同", officer.name]
    assert acked.handling.ack_note == "已送发热门诊，社区医生陪同"
    assert str(acked.cells[11]).startswith("处置时间 2026-11-23 11:00:00")
    assert not acked.handling.open
    assert open_alert.handling.open  # raised, not yet acknowledged
    assert open_alert.cells[9] == FEVER_DONE_WORDS["held"][0]
    page = officer_client.get("/fever", params={"since": "2026-11-23"})
    assert "已送发热门诊" in page.text
    assert "处置时间 2026-11-23 11:00:00" in page.text
    officer_client.get("/lang/en")
    english = officer_client.get("/fever", params={"since": "2026-11-23"}).text
    assert "已送发热门诊，社区医生陪同" in english  # the officer's words, as written
    assert "Handled at 2026-11-23 11:00:00" in english
    assert "处置时间" not in english


def test_what_was_done_reads_in_the_pages_language_and_the_exports_stay_chinese(
    office_context: OfficeContext, officer_client: TestClient
) -> None:
    a_day_with_fevers(office_context.db)
    left = Visits()
    left.visit(
        AT + timedelta(hours=3),
        gate="east",
        outcome=Outcome.ABANDONED,
        temps=(38.1,),
        reasons=("fever_not_confirmed",),
    )  # over the line, gone before the re-measure: not cleared
    store(office_context.db, left.made)
    day = {"since": "2026-11-23"}
    done: list[FeverDone] = ["cleared", "held", "held", "not_confirmed"]  # oldest first
    chinese = HANDLED_CELLS.findall(officer_client.get("/fever", params=day).text)
    assert chinese == [FEVER_DONE_WORDS[code][0] for code in done]
    officer_client.get("/lang/en")
    english = officer_client.get("/fever", params=day).text
    handled = HANDLED_CELLS.findall(english)
    assert handled == [FEVER_DONE_WORDS[code][1] for code in done]
    assert not [cell for cell in handled if CHINESE.search(cell)]
    exported = officer_client.get("/fever/export.csv", params=day)
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][9] == "处置"
    assert [row[9] for row in rows[1:]] == chinese
