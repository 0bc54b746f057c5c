"""sync/office/reports.py on SQLite and a real PostgreSQL: each gate's counts for an office day,
rolled up by building, grid and compound through the roster (the unregistered kept, never
dropped), only the officer's communities, and the export's rows with the paper form's headings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from edge.model import Outcome, PassKind
from sync.office import reports
from sync.receiver.db import ReceiverDb
from tests.office.ledger_data import DAY_START, SHANGHAI, Visits, import_roster, store

DAY = date(2026, 11, 23)
BOTH = pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)


def a_day_of_two_buildings(db: ReceiverDb) -> Visits:
    """Building 3: four entries at the north gate (one a fever, one a visitor); building 5: two
    at the south gate; one household not in the roster, one entry with no pass; and entries
    just outside the day and of another community, which must not count."""
    v = Visits()
    at = DAY_START + timedelta(hours=8)
    v.visit(at, household="3-2-501")
    v.visit(at + timedelta(minutes=1), household="3-2-502")
    v.fever(at + timedelta(minutes=2), household="3-2-501")
    v.visit(at + timedelta(minutes=3), household="3-2-502", kind=PassKind.VISITOR)
    v.visit(at + timedelta(hours=2), gate="south", household="5-1-101")
    v.visit(at + timedelta(hours=3), gate="south", household="5-1-102", outcome=Outcome.DENIED)
    v.visit(at + timedelta(hours=4), gate="south", household="9-9-999")  # not in the roster
    v.visit(
        at + timedelta(hours=5),
        gate="south",
        household=None,
        pass_id=None,
        holder=None,
        kind=None,
        outcome=Outcome.ABANDONED,
    )
    v.visit(DAY_START - timedelta(seconds=1), household="3-2-501")  # the day before
    v.visit(DAY_START + timedelta(days=1), household="3-2-501")  # the day after
    other = Visits("lhy")
    other.visit(at, household="3-2-501")
    store(db, v.made + other.made)
    import_roster(db)
    import_roster(db, "lhy")
    return v


@BOTH
def test_each_gate_counts_its_office_day(office_db: ReceiverDb) -> None:
    a_day_of_two_buildings(office_db)
    rows = reports.gate_report(office_db, ["hxy"], DAY, SHANGHAI)
    assert [(row.gate, row.total) for row in rows] == [("north", 4), ("south", 4)]
    north, south = rows
    assert (north.passed, north.fevers, north.visitors) == (3, 1, 1)
    assert (south.passed, south.denied, south.abandoned) == (2, 1, 1)
    assert reports.gate_report(office_db, [], DAY, SHANGHAI) == []
    both = reports.gate_report(office_db, ["hxy", "lhy"], DAY, SHANGHAI)
    assert [(row.community, row.gate) for row in both][-1] == ("lhy", "north")


@BOTH
def test_the_day_rolls_up_by_building_grid_and_compound(office_db: ReceiverDb) -> None:
    a_day_of_two_buildings(office_db)
    by_building = reports.rollup(office_db, ["hxy"], DAY, SHANGHAI, "building")
    assert [(g.group, g.total, g.fevers, g.visitors) for g in by_building] == [
        ("3号楼", 4, 1, 1),
        ("5号楼", 2, 0, 0),
        (None, 2, 0, 0),  # 9-9-999 and the entry with no pass: unregistered, still counted
    ]
    by_grid = reports.rollup(office_db, ["hxy"], DAY, SHANGHAI, "grid")
    assert [(g.group, g.total) for g in by_grid] == [("第一网格", 4), ("第二网格", 2), (None, 2)]
    by_compound = reports.rollup(office_db, ["hxy"], DAY, SHANGHAI, "compound")
    assert [(g.group, g.total, g.denied) for g in by_compound] == [
        ("东苑", 5, 0),
        ("西苑", 1, 1),
        (None, 2, 0),
    ]
    gates = reports.gate_report(office_db, ["hxy"], DAY, SHANGHAI)
    for rolled in (by_building, by_grid, by_compound):
        assert reports.totals(rolled) == reports.totals(gates)


def test_a_household_without_a_building_is_apart_from_the_unregistered(
    office_db: ReceiverDb,
) -> None:
    v = Visits()
    v.visit(DAY_START + timedelta(hours=9), household="7-1-101")
    v.visit(DAY_START + timedelta(hours=9), household="8-8-808")
    store(office_db, v.made)
    import_roster(office_db, sheet="房号,楼栋\n7-1-101,\n")
    rows = reports.rollup(office_db, ["hxy"], DAY, SHANGHAI, "building")
    assert [(reports.group_label(g.group), g.total) for g in rows] == [
        (reports.NOT_GIVEN, 1),
        (reports.UNREGISTERED, 1),
    ]
    with pytest.raises(ValueError, match="unknown level"):
        reports.rollup(office_db, ["hxy"], DAY, SHANGHAI, "street")  # type: ignore[arg-type]


def test_the_export_has_the_forms_headings_and_a_total_per_community(
    office_db: ReceiverDb,
) -> None:
    a_day_of_two_buildings(office_db)
    headings, rows = reports.report_table(office_db, ["hxy", "lhy"], DAY, SHANGHAI, "building")
    assert headings[:4] == ("日期", "社区", "楼栋", "合计")
    assert "发热" in headings
    table = list(rows)
    assert table == [
        ["2026-11-23", "hxy", "3号楼", 4, 3, 0, 0, 1, 0, 1, 0],
        ["2026-11-23", "hxy", "5号楼", 2, 1, 0, 1, 0, 0, 0, 0],
        ["2026-11-23", "hxy", "未登记", 2, 1, 0, 0, 0, 1, 0, 0],
        ["2026-11-23", "hxy", "合计", 8, 5, 0, 1, 1, 1, 1, 0],
        ["2026-11-23", "lhy", "3号楼", 1, 1, 0, 0, 0, 0, 0, 0],
        ["2026-11-23", "lhy", "合计", 1, 1, 0, 0, 0, 0, 0, 0],
    ]
    headings, rows = reports.report_table(office_db, ["hxy"], DAY, SHANGHAI, "gate")
    assert headings[2] == "卡口"
    assert [row[2] for row in rows] == ["north", "south", "合计"]
