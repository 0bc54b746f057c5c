"""Ledgers, the daily report and metrics through the app: filters, headings, counts, logging."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from edge.console import ledgers
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import WAIT_S, Console, TokenMaker


def _visit(console: Console, token: str, *temperatures_c: float, entries: int) -> None:
    client = console.client
    client.post("/api/v1/sim/temperature", json={"values_c": list(temperatures_c)})
    client.post("/api/v1/sim/present", json={"text": token})
    console.wait_entries(entries)


def test_exports_follow_the_filters_and_are_logged(
    sim_console: Console, make_token: TokenMaker
) -> None:
    _visit(sim_console, make_token("R-1"), 36.5, entries=1)
    sim_console.client.post(
        "/api/v1/lanes/in-1/mode", json={"mode": "lockdown", "reason": "区里通知"}
    )
    client = sim_console.client
    passed = client.get("/api/v1/exports/entries.csv", params={"outcome": "passed"})
    assert passed.status_code == 200
    assert passed.headers["content-type"].startswith("text/csv")
    assert 'filename="kakou-entries-' in passed.headers["content-disposition"]
    assert passed.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the headings right
    rows = list(csv.reader(io.StringIO(passed.content.decode("utf-8-sig"))))
    assert rows[0] == list(ledgers.REGISTER_HEADINGS)
    assert [(r[4], r[10]) for r in rows[1:]] == [("R-1", "通行")]
    everything = client.get("/api/v1/exports/entries.xlsx")
    sheet = load_workbook(io.BytesIO(everything.content), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert [v[10] for v in values[1:]] == ["通行", "模式变更"]
    fever = client.get("/api/v1/exports/fever.csv").content.decode("utf-8-sig")
    assert fever.splitlines() == [",".join(ledgers.FEVER_HEADINGS)]  # nobody had a fever
    logged = client.get("/api/v1/audit", params={"action": "export"}).json()
    assert [(r["detail"]["ledger"], r["detail"]["format"]) for r in logged] == [
        ("fever", "csv"),
        ("entries", "xlsx"),
        ("entries", "csv"),
    ]


def test_daily_report_counts_per_hour(sim_console: Console, make_token: TokenMaker) -> None:
    _visit(sim_console, make_token("R-2"), 36.6, entries=1)
    report = sim_console.client.get("/api/v1/report/daily").json()
    assert report["timezone"] == "Asia/Shanghai"
    assert report["totals"]["passed"] == 1
    assert sum(report["hours"]["passed"]) == 1
    page = sim_console.client.get("/report")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "每小时通行人次" in page.text


def test_metrics_count_lanes_devices_and_outcomes(
    sim_console: Console, make_token: TokenMaker
) -> None:
    _visit(sim_console, make_token("R-3"), 36.4, entries=1)

    def text() -> str:
        return sim_console.client.get("/metrics").text

    assert wait_until(lambda: 'kakou_entries_total{outcome="passed"} 1' in text(), WAIT_S)
    body = text()
    assert 'kakou_lane_up{lane="in-1"} 1' in body
    assert "kakou_entries_stored 1" in body
    assert 'kakou_device_up{device="in-1/thermometer"} 1' in body
    assert "kakou_alarms_active 0" in body


def test_the_log_page_pages_by_seq(sim_console: Console) -> None:
    client = sim_console.client
    for number in range(3):
        mode = "lockdown" if number % 2 == 0 else "normal"
        client.post("/api/v1/lanes/in-1/mode", json={"mode": mode, "reason": f"r{number}"})
    newest = client.get("/api/v1/entries", params={"newest_first": True, "limit": 2}).json()
    seqs = [e["seq"] for e in newest["entries"]]
    assert seqs == [3, 2]
    older = client.get(
        "/api/v1/entries", params={"newest_first": True, "limit": 2, "before_seq": seqs[-1]}
    ).json()
    assert [e["seq"] for e in older["entries"]] == [1]
    page = client.get("/log", params={"outcome": "mode_change"})
    assert page.text.count("<tr>") == 4  # the heading row and three entries
