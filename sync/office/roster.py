"""The household roster: households (unit, building, grid, compound) and their residents, imported
from the office's CSV or XLSX sheet, upserted, searched and shown with personal data masked.

The sheet (docs/office.md, "Households and passes"): a header row, then one row per resident.

==========  ==========================  =====================================================
column      also accepted               what it holds
==========  ==========================  =====================================================
unit        房号, 户号, 单元号           the household, as passes name it (``3-2-501``); required
building    楼栋, 楼号                   optional
grid        网格                         optional
compound    小区, 院落                   optional
name        姓名                         a resident's full name; a row without it only sets the
                                         household
phone       电话, 手机, 手机号           optional: an 11-digit mobile or a landline with its code
id_number   身份证号, 身份证             optional: the 18-character resident ID card number
==========  ==========================  =====================================================

CSV is UTF-8 (with or without Excel's BOM) or GB 18030, as ``edge.passes_pdf.decode_sheet``
reads it; XLSX is read with the standard library (zipfile and a streaming XML parser), its first
sheet. A sheet with any bad row imports nothing, and every bad row is reported by the line
number a spreadsheet shows, so what is stored never half-changes. Importing again updates the
households and residents it names (by unit, and by unit and name) and adds the new ones; it
never removes anyone, and an empty cell never erases what is stored.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, NewType
from xml.etree.ElementTree import ParseError, iterparse

from edge.identity import (
    InvalidFieldError,
    check_id_number,
    check_phone,
    mask_id_number,
    mask_phone,
)
from edge.passes import check_field, mask_holder
from edge.passes_pdf import decode_sheet
from sync.receiver.db import Query, ReceiverDb

MAX_SHEET_BYTES = 8 * 1024 * 1024
"""A community of 5,000 households and 15,000 residents is about 1.5 MB as CSV."""
MAX_ROWS = 50_000
MAX_XLSX_PART_BYTES = 64 * 1024 * 1024
"""What one part of an XLSX may inflate to: a zip bomb stops here."""
MAX_TEXT_CHARS = 64
"""Building, grid and compound names."""
MAX_ERRORS = 200
"""Errors kept for the page; a sheet with more is wrong throughout, and the count says so."""

COLUMNS = ("unit", "building", "grid", "compound", "name", "phone", "id_number")
ALIASES: dict[str, str] = {
    **{name: name for name in COLUMNS},
    "房号": "unit",
    "户号": "unit",
    "单元号": "unit",
    "楼栋": "building",
    "楼号": "building",
    "网格": "grid",
    "小区": "compound",
    "院落": "compound",
    "姓名": "name",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "身份证号": "id_number",
    "身份证": "id_number",
}
HOUSEHOLD_FIELDS = ("building", "grid", "compound")

# OWASP "CSV injection": a cell a spreadsheet would run as a formula. Nobody's name or unit starts
# like this, so such a cell is refused at import rather than stored and carried into exports.
_FORMULA_STARTS = frozenset("=+-@\t\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

SCHEMA = """
CREATE TABLE IF NOT EXISTS office_households (
    community TEXT NOT NULL,
    unit TEXT NOT NULL,
    building TEXT NOT NULL DEFAULT '',
    grid TEXT NOT NULL DEFAULT '',
    compound TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (community, unit)
);
CREATE INDEX IF NOT EXISTS office_households_by_building
    ON office_households (community, building, grid, compound);
CREATE TABLE IF NOT EXISTS office_residents (
    community TEXT NOT NULL,
    unit TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (community, unit, name)
);
CREATE INDEX IF NOT EXISTS office_residents_by_name ON office_residents (community, name)
"""


def ensure_schema(db: ReceiverDb) -> None:
    db.ensure_tables(SCHEMA)


# ------------------------------------------------------------------------------ the sheet


@dataclass(frozen=True, slots=True)
class RosterError:
    """A problem with the sheet: the line a spreadsheet shows, a code the page translates, and
    a detail naming the column (never the cell's value: it may be an ID number)."""

    line_no: int
    code: str
    detail: str = ""

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.code}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class Resident:
    """A resident of a household: as a line of the sheet gives one, or masked (``masked``) as
    every page shows one."""

    name: str
    phone: str = ""
    id_number: str = ""

    def masked(self) -> MaskedResident:
        """Name, phone and ID number masked, as every page shows a resident."""
        return MaskedResident(
            Resident(
                name=mask_holder(self.name),
                phone=mask_phone(self.phone) if self.phone else "",
                id_number=mask_id_number(self.id_number) if self.id_number else "",
            )
        )


MaskedResident = NewType("MaskedResident", Resident)
"""A resident as ``Resident.masked`` gives one: the only kind a page or a household listing
holds, so the type checker refuses a resident with full personal data there."""


@dataclass(frozen=True, slots=True)
class RosterRow:
    line_no: int
    unit: str
    building: str = ""
    grid: str = ""
    compound: str = ""
    resident: Resident | None = None


@dataclass(slots=True)
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    more_errors: int = 0
    """Errors beyond ``MAX_ERRORS``, counted, not kept."""

    def error(self, line_no: int, code: str, detail: str = "") -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RosterError(line_no, code, detail))
        else:
            self.more_errors += 1

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more_errors


def parse_roster(data: bytes, *, filename: str = "") -> ParsedRoster:
    """Read an uploaded sheet (CSV or XLSX, told apart by its first bytes); never raises on
    bad input: every problem is an error with its line."""
    parsed = ParsedRoster()
    if len(data) > MAX_SHEET_BYTES:
        parsed.error(1, "too_large", f"{len(data)} bytes; at most {MAX_SHEET_BYTES}")
        return parsed
    if not data.strip():
        parsed.error(1, "empty")
        return parsed
    if data[:4] == b"PK\x03\x04":
        lines = _xlsx_lines(data, parsed)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: Excel 97-2003 .xls
        parsed.error(1, "old_excel", filename)
        return parsed
    else:
        try:
            text = decode_sheet(data)
        except ValueError:
            parsed.error(1, "encoding")
            return parsed
        lines = _csv_lines(text, parsed)
    _parse_lines(lines, parsed)
    return parsed


def _csv_lines(text: str, parsed: ParsedRoster) -> Iterator[tuple[int, list[str]]]:
    if "\x00" in text:
        parsed.error(1, "encoding", "NUL bytes: not a text file")
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    end_of_previous = 0
    try:
        for cells in reader:
            # A quoted cell may hold a newline, so a record starts after the previous one ends.
            line_no, end_of_previous = end_of_previous + 1, reader.line_num
            yield line_no, cells
    except csv.Error as exc:
        parsed.error(reader.line_num, "not_csv", str(exc)[:120])


def _parse_lines(lines: Iterator[tuple[int, list[str]]], parsed: ParsedRoster) -> None:
    columns: list[str | None] | None = None
    households: dict[str, RosterRow] = {}
    residents: dict[tuple[str, str], int] = {}
    for line_no, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if columns is None:
            columns = _header(line_no, cells, parsed)
            if columns is None:
                return
            continue
        if len(parsed.rows) >= MAX_ROWS:
            parsed.error(line_no, "too_many_rows", str(MAX_ROWS))
            return
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
            parsed.error(line_no, "too_many_cells", f"{len(cells)} > {len(columns)}")
            continue
        fields = {
            column: cell.strip()
            for column, cell in zip(columns, cells, strict=False)
            if column is not None
        }
        row = _parse_row(line_no, fields, parsed)
        if row is None:
            continue
        first = households.get(row.unit)
        if first is not None:
            clash = [
                name
                for name in HOUSEHOLD_FIELDS
                if getattr(row, name)
                and getattr(first, name)
                and getattr(row, name) != getattr(first, name)
            ]
            if clash:
                parsed.error(
                    line_no, "household_differs", f"{', '.join(clash)}; line {first.line_no}"
                )
                continue
        else:
            households[row.unit] = row
        if row.resident is not None:
            key = (row.unit, row.resident.name)
            if key in residents:
                parsed.error(line_no, "resident_twice", f"line {residents[key]}")
                continue
            residents[key] = line_no
        parsed.rows.append(row)
    if columns is None:
        parsed.error(1, "empty")


def _header(line_no: int, cells: list[str], parsed: ParsedRoster) -> list[str | None] | None:
    columns: list[str | None] = []
    ok = True
    for cell in cells:
        name = cell.strip().lstrip("\ufeff")
        if not name:
            columns.append(None)  # an empty heading: the column is ignored if its cells are too
            continue
        column = ALIASES.get(name.lower())
        if column is None:
            parsed.error(line_no, "unknown_column", name[:40])
            ok = False
        elif column in columns:
            parsed.error(line_no, "column_twice", column)
            ok = False
        columns.append(column)
    if "unit" not in columns:
        parsed.error(line_no, "missing_column", "unit")
        ok = False
    if any(column in columns for column in ("phone", "id_number")) and "name" not in columns:
        parsed.error(line_no, "missing_column", "name")
        ok = False
    return columns if ok else None


def _parse_row(line_no: int, fields: dict[str, str], parsed: ParsedRoster) -> RosterRow | None:
    bad = False

    def refuse(code: str, column: str) -> None:
        nonlocal bad
        bad = True
        parsed.error(line_no, code, column)

    def text(column: str, *, limit: int = MAX_TEXT_CHARS) -> str:
        value = fields.get(column, "")
        if value[:1] in _FORMULA_STARTS:
            refuse("formula", column)
        elif _CONTROL.search(value) or len(value) > limit:
            refuse("bad_text", column)
        return value

    unit = text("unit")
    if not unit:
        refuse("unit_empty", "unit")
    elif not bad:
        try:
            check_field("unit", unit)
        except ValueError:
            refuse("bad_unit", "unit")
    household = {name: text(name) for name in HOUSEHOLD_FIELDS}
    name = text("name", limit=32)
    phone = fields.get("phone", "")
    id_number = fields.get("id_number", "")
    if name and not bad:
        try:
            check_field("holder", name)
        except ValueError:
            refuse("bad_text", "name")
    if (phone or id_number) and not name:
        refuse("name_empty", "name")
    if phone:
        try:
            phone = check_phone(phone)
        except InvalidFieldError:
            refuse("bad_phone", "phone")
    if id_number:
        try:
            id_number = check_id_number(id_number)
        except InvalidFieldError as exc:
            refuse(exc.code, "id_number")
    if bad:
        return None
    resident = Resident(name, phone, id_number) if name else None
    return RosterRow(line_no, unit, resident=resident, **household)


# ----------------------------------------------------------------------------------- XLSX

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


class _Capped(io.RawIOBase):
    """A zip member read through a budget: a part that inflates past it stops the read."""

    def __init__(self, stream: IO[bytes], budget: int) -> None:
        self._stream = stream
        self._left = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(min(len(buffer), 65536))
        self._left -= len(data)
        if self._left < 0:
            raise _TooBigError
        buffer[: len(data)] = data
        return len(data)


class _TooBigError(Exception):
    pass


class _FormulaError(Exception):
    def __init__(self, line_no: int) -> None:
        self.line_no = line_no


def _xlsx_lines(data: bytes, parsed: ParsedRoster) -> Iterator[tuple[int, list[str]]]:
    """Rows of the workbook's first sheet as (row number, cells), every cell as text."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        names = set(book.namelist())
        sheet = _first_sheet(book, names)
        if sheet is None:
            parsed.error(1, "not_xlsx", "no worksheet")
            return
        shared = _shared_strings(book) if "xl/sharedStrings.xml" in names else []
        yield from _sheet_rows(book, sheet, shared)
    except _TooBigError:
        parsed.error(1, "too_large", f"a part inflates past {MAX_XLSX_PART_BYTES} bytes")
    except _FormulaError as exc:
        parsed.error(exc.line_no, "formula", "a formula cell; paste values only")
    except (zipfile.BadZipFile, ParseError, KeyError, ValueError, EOFError, OSError) as exc:
        parsed.error(1, "not_xlsx", type(exc).__name__)


def _parse(book: zipfile.ZipFile, name: str) -> Iterator[tuple[str, object]]:
    # ElementTree resolves no external entities, and expat (2.4+) bounds entity expansion;
    # the budget bounds the rest.
    with book.open(name) as member:
        stream = io.BufferedReader(_Capped(member, MAX_XLSX_PART_BYTES))
        yield from iterparse(stream, events=("start", "end"))  # noqa: S314


def _first_sheet(book: zipfile.ZipFile, names: set[str]) -> str | None:
    """The first sheet listed in the workbook, found through its relationship."""
    if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
        first_id = None
        for event, element in _parse(book, "xl/workbook.xml"):
            if event == "start" and getattr(element, "tag", "") == f"{_MAIN}sheet":
                first_id = element.get(f"{_DOC_REL}id")  # type: ignore[attr-defined]
                break
        if first_id is not None:
            for event, element in _parse(book, "xl/_rels/workbook.xml.rels"):
                if (
                    event == "end"
                    and getattr(element, "tag", "") == f"{_PKG_REL}Relationship"
                    and element.get("Id") == first_id  # type: ignore[attr-defined]
                ):
                    target = str(element.get("Target", ""))  # type: ignore[attr-defined]
                    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                    if path in names:
                        return path
    return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    for event, element in _parse(book, "xl/sharedStrings.xml"):
        tag = getattr(element, "tag", "")
        if event == "end" and tag == f"{_MAIN}t":
            parts.append(element.text or "")  # type: ignore[attr-defined]
        elif event == "end" and tag == f"{_MAIN}rPh":
            # Phonetic guides (furigana) are not part of the text; drop what they held.
            element.clear()  # type: ignore[attr-defined]
        elif event == "end" and tag == f"{_MAIN}si":
            strings.append("".join(parts))
            parts.clear()
            element.clear()  # type: ignore[attr-defined]
            if len(strings) > MAX_ROWS * len(COLUMNS):
                raise _TooBigError
    return strings


def _sheet_rows(
    book: zipfile.ZipFile, sheet: str, shared: Sequence[str]
) -> Iterator[tuple[int, list[str]]]:
    row_no = 0
    cells: dict[int, str] = {}
    cell_type = ""
    column = 0
    value: list[str] = []
    in_phonetic = False
    for event, element in _parse(book, sheet):
        tag = getattr(element, "tag", "")
        get = element.get  # type: ignore[attr-defined]
        if event == "start":
            if tag == f"{_MAIN}row":
                row_no = int(get("r") or row_no + 1)
                cells = {}
                column = 0
            elif tag == f"{_MAIN}c":
                cell_type = get("t") or "n"
                match = _CELL_REF.fullmatch(get("r") or "")
                column = _column_index(match.group(1)) if match else column + 1
                value = []
            elif tag == f"{_MAIN}f":
                raise _FormulaError(row_no)
            elif tag == f"{_MAIN}rPh":
                in_phonetic = True
            continue
        if tag in (f"{_MAIN}v", f"{_MAIN}t") and not in_phonetic:
            value.append(element.text or "")  # type: ignore[attr-defined]
        elif tag == f"{_MAIN}rPh":
            in_phonetic = False
        elif tag == f"{_MAIN}c":
            text = "".join(value)
            if cell_type == "s":
                text = shared[int(text)] if text else ""
            elif cell_type == "b":
                text = "TRUE" if text == "1" else "FALSE"
            elif cell_type == "n" and text.endswith(".0"):
                text = text[:-2]
            if column > len(COLUMNS) * 4:
                raise ValueError("too many columns")
            cells[column] = text
        elif tag == f"{_MAIN}row":
            width = max(cells, default=0)
            yield row_no, [cells.get(index, "") for index in range(1, width + 1)]
            element.clear()  # type: ignore[attr-defined]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


# ----------------------------------------------------------------------------- the tables


@dataclass(frozen=True, slots=True)
class ImportCounts:
    households_added: int = 0
    households_updated: int = 0
    residents_added: int = 0
    residents_updated: int = 0
    unchanged: int = 0


def import_roster(
    q: Query, *, community: str, rows: Sequence[RosterRow], now: datetime
) -> ImportCounts:
    """Upsert the rows of a sheet that parsed without errors, in the caller's transaction.

    Households by (community, unit), residents by (community, unit, name). A value given
    replaces the stored one; an empty cell keeps it. Nobody is removed.
    """
    at = now.isoformat()
    stored_households = {
        row[0]: row[1:]
        for row in q.all(
            "SELECT unit, building, grid, compound FROM office_households WHERE community = ?",
            [community],
        )
    }
    stored_residents = {
        (row[0], row[1]): row[2:]
        for row in q.all(
            "SELECT unit, name, phone, id_number FROM office_residents WHERE community = ?",
            [community],
        )
    }
    merged_households: dict[str, tuple[str, str, str]] = {}
    merged_residents: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        base = merged_households.get(row.unit) or stored_households.get(row.unit) or ("", "", "")
        merged_households[row.unit] = (
            row.building or base[0],
            row.grid or base[1],
            row.compound or base[2],
        )
        if row.resident is not None:
            key = (row.unit, row.resident.name)
            old = stored_residents.get(key, ("", ""))
            merged_residents[key] = (row.resident.phone or old[0], row.resident.id_number or old[1])
    counts = {"households_added": 0, "households_updated": 0}
    household_rows = []
    for unit, values in merged_households.items():
        old_household = stored_households.get(unit)
        if old_household == values:
            continue
        counts["households_added" if old_household is None else "households_updated"] += 1
        household_rows.append([community, unit, *values, at, at])
    resident_rows = []
    residents_added = residents_updated = 0
    for (unit, name), resident_values in merged_residents.items():
        old_resident = stored_residents.get((unit, name))
        if old_resident == resident_values:
            continue
        if old_resident is None:
            residents_added += 1
        else:
            residents_updated += 1
        resident_rows.append([community, unit, name, *resident_values, at, at])
    if household_rows:
        q.many(
            """
            INSERT INTO office_households (community, unit, building, grid, compound,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (community, unit) DO UPDATE SET building = excluded.building,
                grid = excluded.grid, compound = excluded.compound,
                updated_at = excluded.updated_at
            """,
            household_rows,
        )
    if resident_rows:
        q.many(
            """
            INSERT INTO office_residents (community, unit, name, phone, id_number,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (community, unit, name) DO UPDATE SET phone = excluded.phone,
                id_number = excluded.id_number, updated_at = excluded.updated_at
            """,
            resident_rows,
        )
    changed = len(household_rows) + len(resident_rows)
    return ImportCounts(
        households_added=counts["households_added"],
        households_updated=counts["households_updated"],
        residents_added=residents_added,
        residents_updated=residents_updated,
        unchanged=len(merged_households) + len(merged_residents) - changed,
    )


# ------------------------------------------------------------------------- reading, masked


@dataclass(frozen=True, slots=True)
class Household:
    community: str
    unit: str
    building: str
    grid: str
    compound: str
    residents: tuple[MaskedResident, ...] = ()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_households(
    q: Query, *, communities: Sequence[str], text: str = "", limit: int = 100
) -> list[Household]:
    """Households of ``communities`` whose unit, building, grid, compound or a resident's name
    holds ``text`` (all of them when it is empty), by community and unit, residents masked."""
    if not communities:
        return []
    within, params = q.in_list(list(communities))
    sql = (
        "SELECT community, unit, building, grid, compound FROM office_households h"  # noqa: S608
        f" WHERE community {within}"
    )
    if text.strip():
        pattern = _like(text.strip())
        sql += (
            " AND (unit LIKE ? ESCAPE '\\' OR building LIKE ? ESCAPE '\\'"
            " OR grid LIKE ? ESCAPE '\\' OR compound LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM office_residents r WHERE r.community = h.community"
            " AND r.unit = h.unit AND r.name LIKE ? ESCAPE '\\'))"
        )
        params += [pattern] * 5
    sql += " ORDER BY community, unit LIMIT ?"
    rows = q.all(sql, [*params, limit])
    return [
        Household(*row, residents=_residents(q, row[0], row[1]))  # type: ignore[misc]
        for row in rows
    ]


def _residents(q: Query, community: str, unit: str) -> tuple[MaskedResident, ...]:
    return tuple(
        Resident(*row).masked()
        for row in q.all(
            "SELECT name, phone, id_number FROM office_residents WHERE community = ? AND unit = ?"
            " ORDER BY created_at, name",
            [community, unit],
        )
    )


def household(q: Query, community: str, unit: str) -> Household | None:
    row = q.one(
        "SELECT community, unit, building, grid, compound FROM office_households"
        " WHERE community = ? AND unit = ?",
        [community, unit],
    )
    if row is None:
        return None
    return Household(*row, residents=_residents(q, community, unit))  # type: ignore[misc]


def resident_names(q: Query, community: str, unit: str) -> list[str]:
    """Full names of a household's residents, for printing their cards (never for a list)."""
    return [
        str(row[0])
        for row in q.all(
            "SELECT name FROM office_residents WHERE community = ? AND unit = ?"
            " ORDER BY created_at, name",
            [community, unit],
        )
    ]


def counts(q: Query, communities: Sequence[str]) -> tuple[int, int]:
    """(households, residents) in ``communities``."""
    if not communities:
        return 0, 0
    within, params = q.in_list(list(communities))
    households = q.scalar(
        f"SELECT count(*) FROM office_households WHERE community {within}",  # noqa: S608
        params,
    )
    residents = q.scalar(
        f"SELECT count(*) FROM office_residents WHERE community {within}",  # noqa: S608
        params,
    )
    return int(households or 0), int(residents or 0)
