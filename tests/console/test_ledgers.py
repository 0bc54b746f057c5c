"""Ledgers, the daily report and metrics through the app: filters, headings, counts, logging.

The exports read raw rows (``edge.store.exports``); the previous path, which decoded every entry
and wrote XLSX through openpyxl, is kept below as the oracle they must reproduce.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from drivers.base import Reading
from edge.console import ledgers, messages
from edge.console.routes.ledgers import TITLES, XLSX_TYPE
from edge.lane import OFFICE
from edge.model import (
    Direction,
    Entry,
    EntryDraft,
    GateMode,
    MeasuredTemperature,
    Outcome,
    PassKind,
)
from edge.store import Store
from edge.store.alarms import Alarm
from edge.store.exports import LedgerRow
from edge.store.guards import GuardBook
from tests.drivers.waiting import wait_until
from tests.edge.console.conftest import WAIT_S, Console, TokenMaker
from tests.edge.store.drafts import drafts


def test_exports_follow_the_filters_and_are_logged(
    sim_console: Console, make_token: TokenMaker
) -> None:
    sim_console.visit(make_token("R-1"), 36.5, entries=1)
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
    sim_console.visit(make_token("R-2"), 36.6, entries=1)
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
    sim_console.visit(make_token("R-3"), 36.4, entries=1)

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


def test_exports_and_the_log_name_the_questions_and_the_guard(sim_console: Console) -> None:
    """The office reads the policy's question and the guard's name, not their ids; an id the
    policy or the accounts no longer know is shown as stored."""
    guard = sim_console.guard
    assert guard is not None
    answers = (("travel_14d", "no"), ("symptoms", "yes"), ("dropped_q", "maybe"))
    draft = _draft(MIDNIGHT, answers=answers, guard_id=guard.id, guard_note="已核实")
    sim_console.gate.store.record_entry(draft, boot_id="boot-1", recorded_at=MIDNIGHT)
    other = _draft(MIDNIGHT + timedelta(seconds=1), guard_id="g-gone")
    sim_console.gate.store.record_entry(other, boot_id="boot-1", recorded_at=MIDNIGHT)
    ordered = _draft(MIDNIGHT + timedelta(seconds=2), guard_id=OFFICE)  # by the office's policy
    sim_console.gate.store.record_entry(ordered, boot_id="boot-1", recorded_at=MIDNIGHT)
    response = sim_console.client.get("/api/v1/exports/entries.csv")
    named, unnamed, office = _read_csv(response.content)[1:]
    assert office[12] == "社区办公室"
    assert named[9] == "14天内是否去过中高风险地区？否；是否有发热、咳嗽等症状？是；dropped_q=maybe"
    assert named[12:] == [guard.name, "已核实"]
    assert unnamed[12] == "g-gone"
    sim_console.client.cookies.set("kakou_lang", "en")
    page = sim_console.client.get("/log").text
    assert "Fever, cough or other symptoms? Yes" in page
    assert html.escape(guard.name) in page


def test_the_log_pages_exports_carry_its_filters(sim_console: Console) -> None:
    record_varied(sim_console.gate.store)
    client = sim_console.client
    filters = {
        "day": "2026-11-24",
        "outcome": "passed",
        "household": "3栋2单元401",
        "pass_id": "R-0001",
        "lane": "in-1",
    }
    page = client.get("/log", params=filters)
    shown = [int(seq) for seq in re.findall(r"<tr><td data-label=\"[^\"]*\">(\d+)</td>", page.text)]
    assert shown == [10, 9, 4]  # of 14 entries
    links = re.findall(r'id="export-(entries|fever)-(?:csv|xlsx)" href="([^"]+)"', page.text)
    assert len(links) == 4
    for ledger, href in links:
        url = urlsplit(html.unescape(href))
        assert dict(parse_qsl(url.query)) == {
            "outcome": "passed",
            "household": "3栋2单元401",
            "pass_id": "R-0001",
            "lane": "in-1",
            "since": "2026-11-24T00:00:00+08:00",  # the day's local midnights
            "until": "2026-11-25T00:00:00+08:00",
        }
        if url.path.endswith(".csv"):
            exported = _read_csv(client.get(html.unescape(href)).content)[1:]
            # The register is what the page shows, oldest first; the fever ledger its one case.
            assert [int(row[0]) for row in exported] == ([4, 9, 10] if ledger == "entries" else [4])


# ---------------------------------------------------------- the previous rendering, as oracle
# The export as it was before it read raw rows (every entry decoded into an Entry, then
# formatted; XLSX through openpyxl's write-only mode), kept verbatim as the reference the fast
# path must reproduce. bench/bench_console.py times it against the new path.

ZONE = ZoneInfo("Asia/Shanghai")


def old_time(entry: Entry, zone: ZoneInfo) -> str:
    return entry.draft.decided_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def old_temperatures(entry: Entry) -> str:
    return " ".join(
        f"{t.body_c:.1f}{'(手持)' if t.reading.manual else ''}{'' if t.plausible else '(非体温)'}"
        for t in entry.draft.temperatures
    )


@dataclass(frozen=True)
class OfficeNames:
    """The names the app should show for stored ids (built here from the policy and the guard
    accounts, not by the code under test)."""

    questions: Mapping[str, str] = field(default_factory=dict)
    guards: Mapping[str, str] = field(default_factory=dict)

    def answer(self, question: str, answer: str) -> str:
        word = {"yes": "是", "no": "否"}.get(answer, answer)
        if question not in self.questions:
            return f"{question}={word}"
        text = self.questions[question]
        return {"？": text + word, "?": f"{text} {word}"}.get(text[-1], f"{text}：{word}")

    def guard(self, guard_id: str | None) -> str:
        return self.guards.get(guard_id, guard_id) if guard_id else ""


IDS = OfficeNames()


def office_names(console: Console) -> OfficeNames:
    policy = next(iter(console.gate.lanes.values())).ctx.policy
    return OfficeNames(
        questions={qid: q.text_zh for qid, q in policy.questions.items()},
        guards={g.id: g.name for g in GuardBook(console.gate.store).all()},
    )


def old_register_row(entry: Entry, zone: ZoneInfo, names: OfficeNames = IDS) -> list[str | int]:
    draft = entry.draft
    return [
        entry.seq,
        old_time(entry, zone),
        draft.lane,
        ledgers.DIRECTIONS.get(draft.direction.value, draft.direction.value),
        draft.pass_id or "",
        messages.term("kind", draft.pass_kind.value) if draft.pass_kind else "",
        draft.holder or "",
        draft.household or "",
        old_temperatures(entry),
        "；".join(names.answer(q, a) for q, a in draft.answers),
        messages.term("outcome", draft.outcome.value),
        "；".join(messages.term("reason", r) for r in draft.reasons),
        names.guard(draft.guard_id),
        draft.guard_note or "",
    ]


def old_fever_row(entry: Entry, zone: ZoneInfo, names: OfficeNames = IDS) -> list[str | int]:
    draft = entry.draft
    # No alarm was raised for these entries (written straight to the store): nothing handled.
    # Only a fever, a normal re-measure or a guard's override settle a case at the gate.
    if draft.outcome is Outcome.FEVER:
        handled = "复测确认发热，未放行（未见处置记录）"
    elif draft.outcome is Outcome.PASSED:
        handled = "复测正常，放行"
    elif draft.outcome is Outcome.OVERRIDDEN and "fever_not_confirmed" not in draft.reasons:
        handled = "值守人员人工放行"
    else:
        handled = "未经复测确认即离开或放行，已上报（未见处置记录）"
    return [
        entry.seq,
        old_time(entry, zone),
        draft.holder or "",
        draft.household or "",
        draft.pass_id or "",
        old_temperatures(entry),
        handled,
        names.guard(draft.guard_id),
        draft.guard_note or "",
    ]


def old_is_fever_case(entry: Entry) -> bool:
    return entry.draft.outcome is Outcome.FEVER or any(t.fever for t in entry.draft.temperatures)


def old_walk(store: Store, **filters: Any) -> Iterator[Entry]:
    after: int | None = None
    while True:
        page = store.entries(after_seq=after, limit=5000, **filters)
        yield from page
        if len(page) < 5000:
            return
        after = page[-1].seq


def old_csv(headings: Iterable[str], rows: Iterable[list[str | int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(list(headings))
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def old_xlsx(title: str, headings: Iterable[str], rows: Iterable[list[str | int]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.append(list(headings))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def old_rows(
    store: Store, ledger: str, zone: ZoneInfo, names: OfficeNames = IDS, **filters: Any
) -> tuple[tuple[str, ...], Iterator[list[str | int]]]:
    entries = old_walk(store, **filters)
    if ledger == "fever":
        rows = (old_fever_row(e, zone, names) for e in entries if old_is_fever_case(e))
        return ledgers.FEVER_HEADINGS, rows
    return ledgers.REGISTER_HEADINGS, (old_register_row(e, zone, names) for e in entries)


def _new_csv(store: Store, ledger: str, zone: ZoneInfo = ZONE, **filters: Any) -> bytes:
    return b"".join(ledgers.csv_chunks(*ledgers.export_rows(store, ledger, zone, **filters)))


def _new_xlsx(store: Store, ledger: str, zone: ZoneInfo = ZONE, **filters: Any) -> bytes:
    headings, rows = ledgers.export_rows(store, ledger, zone, **filters)
    return b"".join(ledgers.xlsx_chunks(TITLES[ledger], headings, rows))


def _read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _cells(body: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(body))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


# ----------------------------------------------------------------------- a varied register

UTC_MINUS = timezone(timedelta(hours=-5, minutes=-30))
# 2026-11-23 15:59:59.999999 UTC is 23:59:59 in Shanghai: the next entry is the next day there.
MIDNIGHT = datetime(2026, 11, 23, 15, 59, 59, 999_999, tzinfo=UTC)


def _reading(body_c: float, *, fever: bool = False, manual: bool = False) -> MeasuredTemperature:
    """A reading; below 30 °C it is what the sensor saw of the surroundings, not a person."""
    return MeasuredTemperature(
        reading=Reading(
            value_c=body_c - 0.4,
            sensor="handheld" if manual else "gy-mcu90614",
            object_c=None if manual else body_c - 0.4,
            ambient_c=None if manual else 18.5,
            manual=manual,
            raw_hex="" if manual else "5a5a45040e930e6e7b",
        ),
        body_c=body_c,
        at=MIDNIGHT,
        plausible=body_c >= 30.0,
        fever=fever,
    )


def _draft(decided_at: datetime, **fields: Any) -> EntryDraft:
    base: dict[str, Any] = {
        "lane": "in-1",
        "direction": Direction.IN,
        "outcome": Outcome.PASSED,
        "started_at": decided_at - timedelta(seconds=12),
        "decided_at": decided_at,
        "pass_id": "R-0001",
        "pass_kind": PassKind.RESIDENT,
        "holder": "王*明",
        "household": "3栋2单元401",
        "key_id": "community-2026a",
        "answers": (("travel_14d", "否"), ("symptoms", "无")),
        "temperatures": (_reading(36.55),),
    }
    return EntryDraft(**{**base, **fields})


# An entry no pass was read for (a bad code, a change of mode): nothing asked, nothing measured.
NO_PASS: dict[str, Any] = {
    "pass_id": None,
    "pass_kind": None,
    "holder": None,
    "household": None,
    "answers": (),
    "temperatures": (),
}

VARIED: list[dict[str, Any]] = [
    {},
    {"direction": Direction.OUT, "pass_kind": PassKind.VISITOR, "household": "5-1201"},
    {
        "outcome": Outcome.FEVER,
        "reasons": ("fever",),
        "temperatures": (_reading(37.81, fever=True), _reading(37.6, fever=True, manual=True)),
        "guard_id": "guard-07",
        "guard_note": "复测37.6℃，已报社区",
    },
    {
        # A high first reading, normal on re-measure: in the fever ledger, cleared.
        "reasons": ("fever_not_confirmed",),
        "temperatures": (_reading(37.35, fever=True), _reading(36.85)),
    },
    {"outcome": Outcome.DENIED, "reasons": ("expired", "revoked"), "temperatures": ()},
    {**NO_PASS, "outcome": Outcome.DENIED, "reasons": ("bad_signature",)},
    {
        "outcome": Outcome.ABANDONED,
        "reasons": ("timeout_measure", "a_code_from_a_newer_gate"),
        "answers": (("travel_14d", "是，去过武汉=湖北；刚回来"),),
        "temperatures": (),
    },
    {
        "outcome": Outcome.OVERRIDDEN,
        "pass_kind": PassKind.STAFF,
        "reasons": ("anti_passback",),
        "guard_id": "李卫",
        "guard_note": '住户忘带卡, "已核实"\n电话 138****5678',
        "temperatures": (_reading(35.95, manual=True),),
    },
    {"pass_kind": PassKind.TEMPORARY, "guard_note": "  前后有空格  ", "temperatures": ()},
    {"pass_kind": PassKind.VEHICLE, "holder": "京A·12345", "guard_note": "a\r\nb, c"},
    {
        "outcome": Outcome.MODE_CHANGE,
        "reasons": ("mode_changed", "lockdown"),
        "gate_mode": GateMode.LOCKDOWN,
        **NO_PASS,
        "guard_id": "guard-01",
        "guard_note": "区里通知",
    },
    {"outcome": Outcome.ABANDONED, "reasons": ("superseded",), "temperatures": (_reading(-1.04),)},
    {
        "lane": "out-2",
        "direction": Direction.OUT,
        "temperatures": (_reading(36.45), _reading(36.5)),
    },
    {
        "outcome": Outcome.ABANDONED,
        "reasons": ("fever_unconfirmed", "timeout_hold"),
        "temperatures": (_reading(38.05, fever=True),),
    },
]


def record_varied(store: Store) -> list[Entry]:
    """One entry of each kind above, a second apart across a local midnight, in three offsets."""
    offsets = (UTC, timezone(timedelta(hours=8)), UTC_MINUS)
    entries = []
    for index, fields in enumerate(VARIED):
        decided_at = (MIDNIGHT + timedelta(seconds=index - 2)).astimezone(offsets[index % 3])
        draft = _draft(decided_at, **fields)
        entries.append(store.record_entry(draft, boot_id="boot-1", recorded_at=decided_at))
    return entries


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "kakou.db", community="maple-court", gate="north") as opened:
        yield opened


# ------------------------------------------------------------------ equality with the old path

LEDGERS = ("entries", "fever")


@pytest.mark.parametrize("ledger", LEDGERS)
def test_csv_is_byte_for_byte_the_previous_rendering(store: Store, ledger: str) -> None:
    entries = record_varied(store)
    expected = old_csv(*old_rows(store, ledger, ZONE))
    assert _new_csv(store, ledger) == expected
    rows = list(csv.reader(io.StringIO(expected.decode("utf-8-sig"))))
    assert len(rows) == 1 + (len(entries) if ledger == "entries" else 3)


@pytest.mark.parametrize("ledger", LEDGERS)
def test_xlsx_cells_are_the_previous_rendering(store: Store, ledger: str) -> None:
    record_varied(store)
    expected = _cells(old_xlsx(TITLES[ledger], *old_rows(store, ledger, ZONE)))
    assert _cells(_new_xlsx(store, ledger)) == expected


def test_the_register_reads_as_the_paper_form(store: Store) -> None:
    record_varied(store)
    rows = list(csv.reader(io.StringIO(_new_csv(store, "entries").decode("utf-8-sig"))))
    headings = "序号 时间 通道 方向 通行证号 类别 姓名 住户 体温(°C) 问询 结果 原因 值守人员 备注"
    assert rows[0] == headings.split()
    fever, cleared = rows[3], rows[4]
    assert fever[1:3] == ["2026-11-23 23:59:59", "in-1"]  # a second before midnight, local
    assert cleared[1] == "2026-11-24 00:00:00"
    assert fever[8:12] == [
        "37.8 37.6(手持)",
        "travel_14d=否；symptoms=无",
        "发热",
        "体温≥37.3°C，复测仍发热",
    ]
    assert rows[7][11] == "测温超时；a_code_from_a_newer_gate"  # an unknown code shows as itself
    assert rows[6][4:9] == ["", "", "", "", ""]


@pytest.mark.parametrize(
    ("zone", "filters"),
    [
        (ZONE, {}),
        (ZONE, {"outcome": Outcome.DENIED}),
        (ZONE, {"household": "5-1201"}),
        (ZONE, {"lane": "out-2"}),
        (ZONE, {"pass_id": "R-0001", "outcome": Outcome.DENIED}),
        (ZONE, {"since": MIDNIGHT}),
        (ZONE, {"until": MIDNIGHT}),
        (
            ZONE,
            {"since": MIDNIGHT - timedelta(seconds=2), "until": MIDNIGHT + timedelta(seconds=3)},
        ),
        (ZONE, {"since": MIDNIGHT, "outcome": Outcome.ABANDONED}),
        (ZoneInfo("America/New_York"), {}),
        (ZoneInfo("UTC"), {"outcome": Outcome.FEVER}),
    ],
)
def test_filters_and_zones_match_the_previous_rendering(
    store: Store, zone: ZoneInfo, filters: dict[str, Any]
) -> None:
    record_varied(store)
    for ledger in LEDGERS:
        expected = old_csv(*old_rows(store, ledger, zone, **filters))
        assert _new_csv(store, ledger, zone, **filters) == expected, (ledger, filters)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    draft=drafts,
    zone=st.sampled_from([ZONE, ZoneInfo("America/Santiago"), ZoneInfo("Australia/Lord_Howe")]),
)
def test_any_entry_renders_as_before(store: Store, draft: EntryDraft, zone: ZoneInfo) -> None:
    entry = store.record_entry(draft, boot_id="boot-1", recorded_at=draft.decided_at)
    window = {"since": draft.decided_at, "until": draft.decided_at + timedelta(microseconds=1)}
    for ledger in LEDGERS:
        _, old = old_rows(store, ledger, zone, **window)
        _, new = ledgers.export_rows(store, ledger, zone, **window)
        assert [r for r in new if r[0] == entry.seq] == [r for r in old if r[0] == entry.seq]
    assert ledgers.register_row(entry, zone) == old_register_row(entry, zone)  # the log page


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        (ZoneInfo("America/New_York"), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # spring forward
        (ZoneInfo("America/New_York"), datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),  # fall back
        (ZoneInfo("Australia/Lord_Howe"), datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),  # 30 minutes
        (ZoneInfo("Asia/Shanghai"), datetime(1986, 5, 3, 18, 0, tzinfo=UTC)),  # China's DST
        # From LMT (+08:05:43) to +08:00, at 15:54:17 UTC: mid-minute.
        (ZoneInfo("Asia/Shanghai"), datetime(1900, 12, 31, 15, 54, 17, tzinfo=UTC)),
    ],
)
def test_times_are_local_to_the_second_across_offset_changes(
    zone: ZoneInfo, around: datetime
) -> None:
    # Rows a few seconds apart for two hours around the change, as a busy gate records them.
    start_us = (int(around.timestamp()) - 3600) * 1_000_000
    moments = range(start_us, start_us + 7200 * 1_000_000, 3_700_001)
    bare = ("in-1", "in", "passed", None, None, None, None, (), (), (), None, None)
    rows = [LedgerRow(seq, us, *bare) for seq, us in enumerate(moments, 1)]
    expected = [
        datetime.fromtimestamp(us // 1_000_000, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        for us in moments
    ]
    assert [cells[1] for cells in ledgers.register_rows(rows, zone)] == expected


def test_a_row_with_every_optional_field_missing(store: Store) -> None:
    bare = EntryDraft(
        lane="in-1",
        direction=Direction.IN,
        outcome=Outcome.ABANDONED,
        started_at=MIDNIGHT,
        decided_at=MIDNIGHT,
    )
    store.record_entry(bare, boot_id="boot-1", recorded_at=MIDNIGHT)
    rows = list(csv.reader(io.StringIO(_new_csv(store, "entries").decode("utf-8-sig"))))
    assert rows[1] == ["1", "2026-11-23 23:59:59", "in-1", "进", *[""] * 6, "未完成", "", "", ""]
    assert _new_csv(store, "entries") == old_csv(*old_rows(store, "entries", ZONE))
    sheet = _cells(_new_xlsx(store, "entries"))[TITLES["entries"]]
    assert sheet[1] == (1, "2026-11-23 23:59:59", "in-1", "进", *[None] * 6, "未完成", *[None] * 3)


# ------------------------------------------------------------------------- empty, BOM, XLSX


@pytest.mark.parametrize("ledger", LEDGERS)
def test_an_empty_export_is_the_headings_alone(store: Store, ledger: str) -> None:
    headings = ledgers.FEVER_HEADINGS if ledger == "fever" else ledgers.REGISTER_HEADINGS
    body = _new_csv(store, ledger)
    assert body == ("\ufeff" + ",".join(headings) + "\r\n").encode("utf-8")
    assert body.startswith(b"\xef\xbb\xbf")
    assert _cells(_new_xlsx(store, ledger)) == {TITLES[ledger]: [headings]}


def test_xlsx_is_a_valid_package(store: Store) -> None:
    record_varied(store)
    body = _new_xlsx(store, "entries")
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert package.testzip() is None
        names = set(package.namelist())
        for name in names:
            ElementTree.fromstring(package.read(name))  # every part is well-formed XML
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
        overrides = {o.get("PartName") for o in types if o.get("PartName")}
        assert overrides == {
            f"/{n}" for n in names if not n.endswith(".rels") and "Content" not in n
        }
    book = load_workbook(io.BytesIO(body))
    sheet = book[TITLES["entries"]]
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == len(VARIED) + 1
    assert [c.data_type for c in sheet[2]][:2] == ["n", "s"]
    streamed = load_workbook(io.BytesIO(body), read_only=True).active
    assert streamed is not None
    assert list(streamed.iter_rows(values_only=True)) == _cells(body)[TITLES["entries"]]


def test_xlsx_keeps_every_text_as_text(store: Store) -> None:
    # openpyxl made "=..." a formula (a note could run in the clerk's Excel) and refused control
    # characters outright (the whole export failed); now both stay text.
    notes = ['=HYPERLINK("http://x")', "#N/A", "a\x07b", "<b>&amp;</b>", "x" * 40_000]
    for note in notes:
        store.record_entry(_draft(MIDNIGHT, guard_note=note), boot_id="b", recorded_at=MIDNIGHT)
    sheet = load_workbook(io.BytesIO(_new_xlsx(store, "entries"))).active
    assert sheet is not None
    assert [row[13].value for row in sheet.iter_rows(min_row=2)] == [
        '=HYPERLINK("http://x")',
        "#N/A",
        "a\ufffdb",
        "<b>&amp;</b>",
        "x" * ledgers.XLSX_MAX_TEXT,
    ]
    assert {row[13].data_type for row in sheet.iter_rows(min_row=2)} == {"s"}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_xlsx_cells_read_back_as_the_csv_cells(texts: list[str]) -> None:
    rows: list[list[str | int]] = [[number, text] for number, text in enumerate(texts, 1)]
    body = b"".join(ledgers.xlsx_chunks("表", ["序号", "备注"], rows))
    unsafe = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
    # XML turns a carriage return into a line feed when read; openpyxl wrote them the same way.
    expected = [
        (number, unsafe.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n") or None)
        for number, text in enumerate(texts, 1)
    ]
    assert _cells(body)["表"][1:] == expected


def test_an_abandoned_xlsx_download_closes_quietly() -> None:
    rows: list[list[str | int]] = [[number, "备注" * 20] for number in range(1, 20_000)]
    chunks = ledgers.xlsx_chunks("表", ["序号", "备注"], rows)
    next(chunks)
    assert next(chunks)  # rows on their way
    chunks.close()  # the client went away: nothing raised


def test_a_long_xlsx_goes_on_over_more_sheets() -> None:
    rows: list[list[str | int]] = [[number, f"第{number}行"] for number in range(1, 6)]
    body = b"".join(ledgers.xlsx_chunks("登记表", ["序号", "备注"], rows, max_rows=3))
    assert _cells(body) == {
        "登记表": [("序号", "备注"), (1, "第1行"), (2, "第2行")],
        "登记表 (2)": [("序号", "备注"), (3, "第3行"), (4, "第4行")],
        "登记表 (3)": [("序号", "备注"), (5, "第5行")],
    }


def test_exports_stream_in_chunks_the_first_one_short(store: Store) -> None:
    at = MIDNIGHT
    total = ledgers.CHUNK_ROWS * 2 + 1
    with store._writing():  # one transaction: filling only
        for _ in range(total):
            at += timedelta(seconds=8)
            store.record_entry(_draft(at), boot_id="b", recorded_at=at)
    headings, rows = ledgers.export_rows(store, "entries", ZONE)
    csv_chunks = list(ledgers.csv_chunks(headings, rows))
    # The download starts after FIRST_CHUNK_ROWS rows, then goes on a full chunk at a time.
    lines = [chunk.decode("utf-8").count("\r\n") for chunk in csv_chunks]
    first = ledgers.FIRST_CHUNK_ROWS
    assert lines == [1 + first, ledgers.CHUNK_ROWS, total - first - ledgers.CHUNK_ROWS]
    read: list[int] = []

    def counted(rows: Iterable[Any]) -> Iterator[Any]:
        for row in rows:
            read.append(1)
            yield row

    headings, rows = ledgers.export_rows(store, "entries", ZONE)
    xlsx = ledgers.xlsx_chunks(TITLES["entries"], headings, counted(rows))
    assert next(xlsx)  # something is sent before the first row is read
    assert read == []
    chunks = list(xlsx)
    assert len(chunks) >= 3
    assert max(len(chunk) for chunk in chunks) < sum(len(chunk) for chunk in chunks)
    body = b"".join(
        ledgers.xlsx_chunks(TITLES["entries"], *ledgers.export_rows(store, "entries", ZONE))
    )
    assert len(_cells(body)[TITLES["entries"]]) == total + 1


# ------------------------------------------------------------------- CSV: never a formula
# OWASP "CSV injection": Excel and WPS run a CSV cell starting with = + - @, a tab or a carriage
# return as a formula. Such text goes out with a leading "'"; numbers stay as they are.

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_text_never_becomes_a_formula(store: Store) -> None:
    # Fever cases, so both ledgers list them; each reading list starts below zero.
    fever = {
        "outcome": Outcome.FEVER,
        "reasons": ("fever",),
        "temperatures": (_reading(-1.04), _reading(37.6, fever=True, manual=True)),
    }
    for formula in FORMULAS:
        draft = _draft(MIDNIGHT, holder=formula, household=formula, guard_note=formula, **fever)
        store.record_entry(draft, boot_id="b", recorded_at=MIDNIGHT)
    honest = _draft(MIDNIGHT, guard_note="复测37.6℃，已报社区", **fever)
    store.record_entry(honest, boot_id="b", recorded_at=MIDNIGHT)
    for ledger, headings in (
        ("entries", ledgers.REGISTER_HEADINGS),
        ("fever", ledgers.FEVER_HEADINGS),
    ):
        texts = [headings.index(heading) for heading in ("姓名", "住户", "备注")]
        rows = _read_csv(_new_csv(store, ledger))[1:]
        assert [[row[column] for column in texts] for row in rows] == [
            *[["'" + formula] * 3 for formula in FORMULAS],
            ["王*明", "3栋2单元401", "复测37.6℃，已报社区"],
        ], ledger
        assert [row[0] for row in rows] == [str(seq) for seq in range(1, len(FORMULAS) + 2)]
        temperatures = {row[headings.index("体温(°C)")] for row in rows}
        # A number below zero is no formula; and it is no body temperature either.
        assert temperatures == {"-1.0(非体温) 37.6(手持)"}
    # The XLSX holds them as the text they are: an inline string is never a formula.
    sheet = load_workbook(io.BytesIO(_new_xlsx(store, "entries"))).active
    assert sheet is not None
    notes = [row[13] for row in sheet.iter_rows(min_row=2)]
    # (XML reads a carriage return back as a line feed; openpyxl wrote it so too.)
    expected = [formula.replace("\r", "\n") for formula in FORMULAS]
    assert [note.value for note in notes] == [*expected, "复测37.6℃，已报社区"]
    assert {note.data_type for note in notes} == {"s"}


# What a cell may hold when it starts with a formula's first character: digits, points, minus
# signs and spaces (readings as the ledger prints them), which no spreadsheet can run as code.
_NUMBERS = re.compile(r"[-\d. ]*(?:\((?:手持|非体温)\)[-\d. ]*)*")
_LEADS = st.sampled_from(["", *FORMULA_STARTS, " =", "'"])


@settings(max_examples=200)
@given(texts=st.lists(st.tuples(_LEADS, st.text(max_size=20)).map("".join), min_size=1))
def test_any_csv_text_reads_back_as_written_or_quoted(texts: list[str]) -> None:
    rows: list[list[str | int]] = [[-number, text] for number, text in enumerate(texts, 1)]
    body = b"".join(ledgers.csv_chunks(["序号", "备注"], rows))
    read = _read_csv(body)
    assert read[0] == ["序号", "备注"]
    assert [int(row[0]) for row in read[1:]] == [-number for number in range(1, len(texts) + 1)]
    for text, (_, cell) in zip(texts, read[1:], strict=True):
        assert cell in (text, "'" + text)
        assert not cell.startswith(FORMULA_STARTS) or _NUMBERS.fullmatch(cell), repr(cell)


# ----------------------------------------------------------------------------- through the app


def test_the_api_applies_the_filters_and_renders_as_before(sim_console: Console) -> None:
    store = sim_console.gate.store
    record_varied(store)
    client = sim_console.client
    names = office_names(sim_console)
    for params, filters in (
        ({}, {}),
        ({"outcome": "denied"}, {"outcome": Outcome.DENIED}),
        ({"household": "5-1201"}, {"household": "5-1201"}),
        ({"household": ""}, {}),
        ({"lane": "out-2"}, {"lane": "out-2"}),
        ({"pass_id": "R-0001", "lane": ""}, {"pass_id": "R-0001"}),
        (
            {"since": "2026-11-24T00:00:00+08:00", "until": "2026-11-23T16:00:05Z"},
            {
                "since": MIDNIGHT + timedelta(microseconds=1),
                "until": MIDNIGHT + timedelta(seconds=5, microseconds=1),
            },
        ),
    ):
        for ledger in LEDGERS:
            headings, streamed = old_rows(store, ledger, ZONE, names, **filters)
            rows = list(streamed)
            response = client.get(f"/api/v1/exports/{ledger}.csv", params=params)
            assert response.status_code == 200
            assert response.content == old_csv(headings, rows), (ledger, params)
            response = client.get(f"/api/v1/exports/{ledger}.xlsx", params=params)
            assert response.headers["content-type"] == XLSX_TYPE
            assert _cells(response.content) == _cells(old_xlsx(TITLES[ledger], headings, rows))
    naive = client.get("/api/v1/exports/entries.csv", params={"since": "2026-11-24T00:00:00"})
    assert naive.status_code == 422


def test_the_api_exports_one_lane_or_one_pass_and_logs_the_filters(sim_console: Console) -> None:
    store = sim_console.gate.store
    record_varied(store)
    at = MIDNIGHT + timedelta(minutes=1)
    visitor = _draft(
        at,
        lane="out-2",
        pass_id="V-0042",
        pass_kind=PassKind.VISITOR,
        outcome=Outcome.FEVER,
        reasons=("fever",),
        temperatures=(_reading(38.2, fever=True),),
    )
    store.record_entry(visitor, boot_id="boot-1", recorded_at=at)
    client = sim_console.client

    def exported(ledger: str, fmt: str = "csv", **params: str) -> list[tuple[object, ...]]:
        response = client.get(f"/api/v1/exports/{ledger}.{fmt}", params=params)
        assert response.status_code == 200, response.text
        if fmt == "csv":
            return [tuple(row) for row in _read_csv(response.content)[1:]]
        return _cells(response.content)[TITLES[ledger]][1:]

    lane = ledgers.REGISTER_HEADINGS.index("通道")
    out = exported("entries", lane="out-2")
    assert [(row[0], row[lane]) for row in out] == [("13", "out-2"), ("15", "out-2")]  # of 15
    assert [row[0] for row in exported("entries", "xlsx", lane="out-2")] == [13, 15]
    assert [row[0] for row in exported("entries", pass_id="V-0042")] == ["15"]
    assert [row[0] for row in exported("entries", pass_id="R-0001", lane="out-2")] == ["13"]
    assert [row[0] for row in exported("fever", lane="out-2")] == ["15"]
    assert [row[0] for row in exported("fever", "xlsx", pass_id="R-0001")] == [3, 4, 14]
    assert exported("fever", pass_id="nobody") == []
    exported("entries", since="2026-11-24T00:00:00+08:00", lane="out-2", household="")
    logged = client.get("/api/v1/audit", params={"action": "export"}).json()
    assert [record["detail"] for record in logged[:2]] == [
        {
            "ledger": "entries",
            "format": "csv",
            "filters": {"since": "2026-11-24T00:00:00+08:00", "lane": "out-2"},
        },
        {"ledger": "fever", "format": "csv", "filters": {"pass_id": "nobody"}},
    ]
    for name, longest in (("lane", 64), ("pass_id", 128), ("household", 64)):
        refused = client.get("/api/v1/exports/entries.csv", params={name: "x" * (longest + 1)})
        assert refused.status_code == 422
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["query", name]
        assert problem["msg"] == f"String should have at most {longest} characters"


def test_the_fever_ledger_says_what_the_guard_did_and_who(
    sim_console: Console, make_token: TokenMaker
) -> None:
    """The fever's alarm, acknowledged with a note, gives the ledger its 处置, 值守人员 and 备注;
    a second fever not yet handled says so rather than claiming it was reported."""
    client = sim_console.client
    sim_console.visit(make_token("R-7"), 38.4, 38.6, entries=1)
    sim_console.visit(make_token("R-8"), 38.5, 38.7, entries=2)
    assert wait_until(lambda: len(client.get("/api/v1/alarms").json()) == 2, WAIT_S)
    first = client.get("/api/v1/alarms").json()[0]
    acked = client.post(f"/api/v1/alarms/{first['id']}/ack", json={"note": "已复测；已劝返"})
    assert acked.status_code == 200, acked.text
    rows = _read_csv(client.get("/api/v1/exports/fever.csv").content)
    assert rows[0] == list(ledgers.FEVER_HEADINGS)
    handled, waiting = rows[1:]
    assert sim_console.guard is not None
    assert (handled[4], handled[6], handled[7]) == ("R-7", "已复测；已劝返", sim_console.guard.name)
    assert handled[8].startswith("处置时间 ")
    assert (waiting[4], waiting[6], waiting[7], waiting[8]) == (
        "R-8",
        "复测确认发热，未放行（未见处置记录）",
        "",
        "",
    )
    cells = _cells(client.get("/api/v1/exports/fever.xlsx").content)
    (sheet,) = cells.values()
    assert sheet[1][6:8] == ("已复测；已劝返", sim_console.guard.name)


def test_each_fever_takes_the_alarm_raised_for_it() -> None:
    """Linking by lane and time: each row its own alarm, in order; an alarm of another lane, or
    raised long after, is no row's."""
    at = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

    def row(seq: int, lane: str, second: int, outcome: str = "fever", *reasons: str) -> LedgerRow:
        us = int((at + timedelta(seconds=second)).timestamp() * 1_000_000)
        return LedgerRow(seq, us, lane, "in", outcome, f"R-{seq}", "resident", None, None,
                         (), (), reasons, None, None)  # fmt: skip

    def alarm(lane: str, kind: str, second: float) -> Alarm:
        return Alarm(f"{lane}-{second}", lane, kind, "", at + timedelta(seconds=second))

    acks = ledgers.FeverAcks(
        [
            alarm("in-1", "fever", 0.01),
            alarm("in-2", "fever", 5.02),
            alarm("in-1", "fever", 10.02),
            alarm("in-1", "fever_unconfirmed", 20.01),
            alarm("in-1", "fever", 500),
        ]
    )
    found = [
        acks.take(row(1, "in-1", 0)),
        acks.take(row(2, "in-1", 10)),
        acks.take(row(3, "in-1", 20, "abandoned", "fever_not_confirmed")),
        acks.take(row(4, "in-1", 30, "passed")),  # over the line, normal at the re-measure
        acks.take(row(5, "in-1", 40)),
    ]
    assert [a.id if a else None for a in found] == [
        "in-1-0.01",
        "in-1-10.02",
        "in-1-20.01",
        None,
        None,
    ]
