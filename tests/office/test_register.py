"""sync/office/register.py on SQLite and a real PostgreSQL: the entry register searched by pass,
household, a resident's name, gate and time across the officer's communities, newest first in
keyset pages that neither skip nor repeat, the holder masked, the search audited before any row
is read, and each search served by its index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from edge.entry_document import epoch_us
from sync.office import register
from sync.office.register import FilterError, Position, RegisterFilters
from sync.receiver.db import Query, ReceiverDb, ReceiverDbError
from tests.office.ledger_data import DAY_START, SHANGHAI, Visits, import_roster, store

BOTH = pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
AT = DAY_START + timedelta(hours=7)


class AuditSpy:
    """Counts the searches and writes each in the transaction given, as audit.record does."""

    def __init__(self, db: ReceiverDb) -> None:
        db.ensure_tables("CREATE TABLE IF NOT EXISTS spy_audit (what TEXT NOT NULL)")
        self.db = db

    def __call__(self, q: Query) -> None:
        q.run("INSERT INTO spy_audit (what) VALUES ('search')")

    @property
    def lines(self) -> int:
        with self.db.reading() as q:
            return int(q.scalar("SELECT count(*) FROM spy_audit"))


def all_pages(
    db: ReceiverDb, communities: list[str], filters: RegisterFilters, limit: int
) -> list[list[str]]:
    pages: list[list[str]] = []
    after: Position | None = None
    while True:
        page = register.search(
            db, communities, filters, audit=AuditSpy(db), after=after, limit=limit
        )
        pages.append([row.id for row in page.rows])
        if page.next is None:
            return pages
        after = page.next


@BOTH
def test_pages_run_newest_first_without_a_gap_or_a_repeat(office_db: ReceiverDb) -> None:
    v = Visits()
    for index in range(23):
        # Pairs decided in the same microsecond at two gates: the id breaks the tie.
        at = AT + timedelta(minutes=index // 2)
        v.visit(at, gate="north" if index % 2 else "south", pass_id=f"R-{index % 3}")
    other = Visits("lhy")
    for index in range(7):
        other.visit(AT + timedelta(minutes=index, seconds=30))
    store(office_db, v.made + other.made)
    day = RegisterFilters(since=DAY_START, until=DAY_START + timedelta(days=1))
    pages = all_pages(office_db, ["hxy", "lhy"], day, limit=10)
    assert [len(page) for page in pages] == [10, 10, 10]
    seen = [entry_id for page in pages for entry_id in page]
    expected = sorted(v.made + other.made, key=lambda e: (e.draft.decided_at, e.id), reverse=True)
    assert seen == [entry.id for entry in expected]
    # An officer of hxy sees hxy's entries only.
    only_hxy = [entry_id for page in all_pages(office_db, ["hxy"], day, 10) for entry_id in page]
    assert only_hxy == [entry.id for entry in expected if entry.community == "hxy"]


@BOTH
def test_searches_by_pass_household_name_gate_and_time(office_db: ReceiverDb) -> None:
    v = Visits()
    v.visit(AT, pass_id="R-1", household="3-2-501")
    v.visit(AT + timedelta(hours=1), pass_id="R-2", household="3-2-502", gate="south")
    v.visit(AT + timedelta(hours=2), pass_id="R-1", household="3-2-501", gate="south")
    v.visit(AT + timedelta(hours=3), pass_id="R-5", household="5-1-101")
    store(office_db, v.made)
    import_roster(office_db)
    ids = [entry.id for entry in v.made]

    def found(**filters: object) -> list[str]:
        page = register.search(
            office_db, ["hxy"], RegisterFilters(**filters), audit=AuditSpy(office_db)
        )
        return [row.id for row in page.rows]

    assert found(pass_id="R-1") == [ids[2], ids[0]]
    assert found(household="3-2-502") == [ids[1]]
    assert found(name="张三") == [ids[3]]  # the roster's 5-1-101
    assert found(name="王小明", household="3-2-502") == []
    assert found(pass_id="R-1", gate="south") == [ids[2]]
    assert found(since=AT + timedelta(hours=1), until=AT + timedelta(hours=3)) == ids[2:0:-1]
    page = register.search(
        office_db, ["hxy"], RegisterFilters(name="没有这个人"), audit=AuditSpy(office_db)
    )
    assert (page.rows, page.households_found) == ([], False)
    assert AuditSpy(office_db).lines == 7


def test_the_holder_is_masked_even_when_the_pass_carried_the_whole_name(
    office_db: ReceiverDb,
) -> None:
    v = Visits()
    v.visit(AT, holder="王小明")
    v.visit(AT + timedelta(seconds=1), holder="Wang Xiaoming")
    store(office_db, v.made)
    page = register.search(
        office_db, ["hxy"], RegisterFilters(pass_id="R-0001"), audit=AuditSpy(office_db)
    )
    assert [row.ledger.holder for row in page.rows] == ["Wang X.", "王*"]
    _, rows = register.export(
        office_db, ["hxy"], RegisterFilters(pass_id="R-0001"), SHANGHAI, audit=AuditSpy(office_db)
    )
    assert [row[8] for row in rows] == ["Wang X.", "王*"]  # the 姓名 column


def test_no_row_is_read_when_the_audit_line_cannot_be_written(office_db: ReceiverDb) -> None:
    v = Visits()
    v.visit(AT)
    store(office_db, v.made)

    def broken(q: Query) -> None:
        q.run("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(ReceiverDbError):
        register.search(office_db, ["hxy"], RegisterFilters(pass_id="R-0001"), audit=broken)
    with pytest.raises(ReceiverDbError):
        register.export(
            office_db, ["hxy"], RegisterFilters(pass_id="R-0001"), SHANGHAI, audit=broken
        )


def _counting(read_page: Any, limits: list[int]) -> Any:
    def counted(*args: Any, limit: int, **kwargs: Any) -> Any:
        limits.append(limit)
        return read_page(*args, limit=limit, **kwargs)

    return counted


def test_the_export_reads_every_page_with_the_forms_headings(
    office_db: ReceiverDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(register, "FIRST_CHUNK_ROWS", 3)  # pages of 3, 4, 3
    monkeypatch.setattr(register, "EXPORT_CHUNK_ROWS", 4)
    pages: list[int] = []
    monkeypatch.setattr(register, "read_page", _counting(register.read_page, pages))
    v = Visits()
    for index in range(10):
        v.visit(AT + timedelta(minutes=index), gate=("north", "south")[index % 2])
    store(office_db, v.made)
    headings, rows = register.export(
        office_db,
        ["hxy"],
        RegisterFilters(household="3-2-501"),
        SHANGHAI,
        audit=AuditSpy(office_db),
    )
    assert headings[:4] == ("社区", "卡口", "序号", "时间")
    table = list(rows)
    assert len(table) == 10
    assert table[0][:4] == ["hxy", "south", 5, "2026-11-23 07:09:00"]
    assert table[-1][:4] == ["hxy", "north", 1, "2026-11-23 07:00:00"]
    assert pages == [3, 4, 4]  # the limits asked for: a short first page, then full ones


def test_the_form_is_checked_field_by_field() -> None:
    filters = register.filters_from(
        {"pass_id": " R-1 ", "since": "2026-11-23T08:00", "until": ""}, SHANGHAI
    )
    assert filters.pass_id == "R-1"
    assert filters.since == DAY_START + timedelta(hours=8)
    assert filters.personal
    assert "pass=R-1" in filters.describe()
    for params, field in [
        ({}, "pass_id"),
        ({"since": "yesterday"}, "since"),
        ({"pass_id": "x" * 65}, "pass_id"),
        ({"since": "2026-11-23T09:00", "until": "2026-11-23T08:00"}, "until"),
    ]:
        with pytest.raises(FilterError) as refused:
            register.filters_from(params, SHANGHAI)
        assert refused.value.field == field
    assert Position.parse("123.abc") == Position(123, "abc")
    assert Position.parse("x.abc") is None
    assert Position.parse(Position(5, "a.b").token()) == Position(5, "a.b")


def plan(db: ReceiverDb, sql: str, params: list[object]) -> str:
    with db.writing() as q:
        if db.backend == "sqlite":
            return " ".join(str(row[-1]) for row in q.all(f"EXPLAIN QUERY PLAN {sql}", params))
        return " ".join(str(row[0]) for row in q.all(f"EXPLAIN {sql}", params))


@pytest.fixture
def busy_day(office_db: ReceiverDb) -> ReceiverDb:
    """1,500 entries of 300 passes and 150 households, a few fevers, statistics gathered: what
    the planners see in the field, where an empty table would make any plan look cheap."""
    v = Visits()
    for index in range(1500):
        at = AT + timedelta(seconds=20 * index)
        if index % 97 == 0:
            v.fever(at, pass_id=f"R-{index % 300}", household=f"H-{index % 150}")
        else:
            v.visit(at, pass_id=f"R-{index % 300}", household=f"H-{index % 150}")
    store(office_db, v.made)
    with office_db.writing() as q:
        q.run("ANALYZE")
    return office_db


@BOTH
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (RegisterFilters(pass_id="R-1"), "entries_by_pass"),
        (RegisterFilters(household="H-7"), "entries_by_household"),
        (RegisterFilters(since=DAY_START + timedelta(hours=8)), "entries_by_community_day"),
    ],
)
def test_each_search_is_served_by_its_index(
    busy_day: ReceiverDb, filters: RegisterFilters, index: str
) -> None:
    households = None if filters.household is None else [filters.household]
    after = Position(epoch_us(AT + timedelta(hours=4)), "hxy-north-00000700")
    for page_start in (None, after):
        with busy_day.reading() as q:
            sql, params = register.register_sql(
                q, "hxy", filters, households, page_start, register.PAGE_ROWS + 1
            )
        assert index in plan(busy_day, sql, params)


@BOTH
def test_the_fever_ledger_is_served_by_the_partial_index(busy_day: ReceiverDb) -> None:
    day = RegisterFilters(since=DAY_START, until=DAY_START + timedelta(days=1))
    with busy_day.reading() as q:
        sql, params = register.register_sql(q, "hxy", day, None, None, 10, True, True)
    assert "entries_fevers" in plan(busy_day, sql, params)
