"""sync/office/roster.py: the household sheet as CSV (UTF-8, GB 18030) and XLSX, every bad row
reported by its line with nothing imported, re-import updating rather than duplicating, and
personal data masked wherever a household is listed."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.console.ledgers import xlsx_chunks
from edge.identity import id_check_char
from edge.passes import check_field
from sync.office import roster
from sync.receiver.db import ReceiverDb

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


ZHANG_ID = id_number("11010519491231002")
LI_ID = id_number("31010419800715123")

SHEET = f"""房号,楼栋,网格,小区,姓名,手机,身份证号
3-2-501,3号楼,第一网格,东苑,张三,13812345678,{ZHANG_ID}
3-2-501,,,,李四,139 1234 5678,
3-2-502,3号楼,第一网格,东苑,,,
"""


BOTH = pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db(office_db: ReceiverDb) -> ReceiverDb:
    roster.ensure_schema(office_db)
    return office_db


def imported(db: ReceiverDb, data: bytes, community: str = "hxy") -> roster.ImportCounts:
    parsed = roster.parse_roster(data)
    assert parsed.ok, parsed.errors
    with db.writing() as q:
        return roster.import_roster(q, community=community, rows=parsed.rows, now=NOW)


def stored(db: ReceiverDb) -> list[tuple[object, ...]]:
    with db.reading() as q:
        return q.all(
            "SELECT h.unit, h.building, h.grid, h.compound, r.name, r.phone, r.id_number"
            " FROM office_households h LEFT JOIN office_residents r"
            " ON r.community = h.community AND r.unit = h.unit ORDER BY h.unit, r.name"
        )


def test_a_csv_with_chinese_headings_imports_households_and_residents(db: ReceiverDb) -> None:
    counts = imported(db, SHEET.encode("utf-8-sig"))
    assert counts == roster.ImportCounts(
        households_added=2, residents_added=2, households_updated=0, residents_updated=0
    )
    assert stored(db) == [
        ("3-2-501", "3号楼", "第一网格", "东苑", "张三", "13812345678", ZHANG_ID),
        ("3-2-501", "3号楼", "第一网格", "东苑", "李四", "13912345678", ""),
        ("3-2-502", "3号楼", "第一网格", "东苑", None, None, None),
    ]


def test_gb18030_as_chinese_excel_saves_it(db: ReceiverDb) -> None:
    imported(db, SHEET.encode("gb18030"))
    assert [row[4] for row in stored(db)] == ["张三", "李四", None]


@BOTH
def test_re_import_updates_and_never_duplicates(db: ReceiverDb) -> None:
    imported(db, SHEET.encode())
    again = imported(db, SHEET.encode())
    assert again.unchanged == 4
    assert (again.households_added, again.residents_added) == (0, 0)
    changed = "unit,grid,name,phone\n3-2-501,第二网格,张三,13800000000\n3-2-501,,王五,\n"
    counts = imported(db, changed.encode())
    assert (counts.households_updated, counts.residents_updated) == (1, 1)
    assert counts.residents_added == 1
    rows = stored(db)
    assert len(rows) == 4
    zhang = next(row for row in rows if row[4] == "张三")
    # The new phone and grid replace the stored ones; the ID number (no column) is kept.
    assert zhang == ("3-2-501", "3号楼", "第二网格", "东苑", "张三", "13800000000", ZHANG_ID)


def test_every_bad_row_is_reported_by_its_line_and_nothing_imports(db: ReceiverDb) -> None:
    bad = (
        "unit,building,name,phone,id_number\n"
        "3-2-501,3号楼,张三,13812345678,\n"  # line 2: fine
        ",3号楼,李四,,\n"  # line 3: no unit
        "3-2-502,3号楼,\"=cmd|' /C calc'!A0\",,\n"  # line 4: a formula
        "3-2-503,3号楼,王五,12345,\n"  # line 5: not a phone
        f"3-2-504,3号楼,赵六,,{ZHANG_ID[:-1]}0\n"  # line 6: wrong check digit
        "3-2-501,3号楼,张三,,\n"  # line 7: the same resident again
        "3-2-501,4号楼,孙七,,\n"  # line 8: the household's building differs from line 2
        "3-2-505,3号楼,周八,,,extra\n"  # line 9: a cell beyond the columns
        "\n"
        "3-2-506,@SUM(A1),吴九,,\n"  # line 11: a formula in another column
    )
    parsed = roster.parse_roster(bad.encode())
    assert not parsed.ok
    assert [(error.line_no, error.code) for error in parsed.errors] == [
        (3, "unit_empty"),
        (4, "formula"),
        (5, "bad_phone"),
        (6, "id_check"),
        (7, "resident_twice"),
        (8, "household_differs"),
        (9, "too_many_cells"),
        (11, "formula"),
    ]
    assert "line 2" in parsed.errors[4].detail
    # Errors name the column, never the value: an ID number must not reach a page or a log.
    assert all(ZHANG_ID[:10] not in str(error) for error in parsed.errors)
    assert stored(db) == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"unit,name\n", "empty"),  # a header and no rows is fine to parse, nothing to import
        (b"\xff\xfe\x00u\x00n\x00i\x00t", "encoding"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old_excel"),
        (b"PK\x03\x04garbage", "not_xlsx"),
        (b"room,name\n1,x\n", "unknown_column"),
        ("name,phone\n张三,13812345678\n".encode(), "missing_column"),
        (b"unit,unit\n1,1\n", "column_twice"),
    ],
)
def test_a_sheet_that_is_not_a_roster_says_why(data: bytes, code: str) -> None:
    parsed = roster.parse_roster(data)
    if code == "empty" and data.startswith(b"unit"):
        assert parsed.ok
        assert parsed.rows == []
        return
    assert [error.code for error in parsed.errors][:1] == [code]


def test_a_50_mb_upload_is_refused_unread() -> None:
    parsed = roster.parse_roster(b"unit\n" + b"1-1-1\n" * (50 * 1024 * 1024 // 6))
    assert [(error.line_no, error.code) for error in parsed.errors] == [(1, "too_large")]


def test_xlsx_from_excel_with_shared_strings_and_a_number_for_a_phone(db: ReceiverDb) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["房号", "楼栋", "姓名", "手机", "身份证号"])
    sheet.append(["3-2-501", "3号楼", "张三", 13812345678, ZHANG_ID])
    sheet.append(["3-2-501", "3号楼", "李四", None, LI_ID])
    sheet.append([None, None, None, None, None])
    sheet.append(["3-2-601", "3号楼", "王五", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    imported(db, buffer.getvalue())
    assert [(row[0], row[4], row[5], row[6]) for row in stored(db)] == [
        ("3-2-501", "张三", "13812345678", ZHANG_ID),
        ("3-2-501", "李四", "", LI_ID),
        ("3-2-601", "王五", "", ""),
    ]


def test_xlsx_with_inline_strings_as_the_gate_writes_it(db: ReceiverDb) -> None:
    data = b"".join(
        xlsx_chunks("住户", ["unit", "name", "phone"], [["3-2-501", "张三", "13812345678"]])
    )
    imported(db, data)
    assert [(row[0], row[4], row[5]) for row in stored(db)] == [("3-2-501", "张三", "13812345678")]


def test_an_xlsx_formula_cell_is_refused_with_its_row() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit", "name"])
    sheet.append(["3-2-501", "张三"])
    sheet.append(["3-2-502", '=HYPERLINK("http://x.invalid","李四")'])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = roster.parse_roster(buffer.getvalue())
    assert [(error.line_no, error.code) for error in parsed.errors] == [(3, "formula")]


def test_an_xlsx_that_inflates_past_the_limit_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as book:
        rows = "".join(
            f'<row r="{n}"><c t="inlineStr"><is><t>{text}</t></is></c></row>'
            for n, text in enumerate(["unit", *(f"1-1-{n}" for n in range(20000))], start=1)
        )
        book.writestr(
            "xl/worksheets/sheet1.xml",
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{rows}</sheetData></worksheet>",
        )
    monkeypatch.setattr(roster, "MAX_XLSX_PART_BYTES", 64 * 1024)
    parsed = roster.parse_roster(buffer.getvalue())
    assert [error.code for error in parsed.errors] == ["too_large"]


@BOTH
def test_search_lists_households_with_residents_masked(db: ReceiverDb) -> None:
    imported(db, SHEET.encode())
    imported(db, b"unit,name\n9-9-901,\xe5\xbc\xa0\xe4\xb8\x89\xe4\xb8\xb0\n", community="other")
    with db.reading() as q:
        everything = roster.search_households(q, communities=["hxy"])
        by_name = roster.search_households(q, communities=["hxy"], text="李四")
        by_unit = roster.search_households(q, communities=["hxy"], text="502")
        wildcard = roster.search_households(q, communities=["hxy"], text="%")
        nobody = roster.search_households(q, communities=[], text="")
        detail = roster.household(q, "hxy", "3-2-501")
        assert roster.counts(q, ["hxy"]) == (2, 2)
    assert [household.unit for household in everything] == ["3-2-501", "3-2-502"]
    assert [household.unit for household in by_name] == ["3-2-501"]
    assert [household.unit for household in by_unit] == ["3-2-502"]
    assert wildcard == []  # a LIKE wildcard typed into the search is a character
    assert nobody == []
    assert detail is not None
    assert detail.residents == (
        roster.Resident(
            name="张*", phone="138****5678", id_number="1101**********" + ZHANG_ID[-4:]
        ),
        roster.Resident(name="李*", phone="139****5678", id_number=""),
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_to_rows_or_errors_without_raising(data: bytes) -> None:
    parsed = roster.parse_roster(data)
    assert parsed.ok or parsed.errors


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=8), min_size=1, max_size=10))
def test_any_csv_cells_parse_without_raising(cells: list[list[str]]) -> None:
    text = "unit,building,name,phone,id_number\n" + "\n".join(",".join(row) for row in cells)
    parsed = roster.parse_roster(text.encode())
    for row in parsed.rows:
        # Whatever imports is a unit a pass can carry, and no cell a spreadsheet would run.
        assert check_field("unit", row.unit) == row.unit
        assert row.unit[:1] not in "=+-@"
        assert row.resident is None or row.resident.name[:1] not in "=+-@"
