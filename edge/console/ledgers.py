"""The ledgers (台账) as the office files them: the entry register and the fever ledger.

Column headings are the ones on the paper forms (小区卡点出入人员登记表, 发热症状人员台账), so
an export can be printed or merged into the district's spreadsheet without renaming columns.
Exports format the stored columns (``edge.store.exports``) in one loop, never decoding a whole
entry, and stream: CSV in chunks, XLSX as a zip written as it goes, so a month of entries
(about 324 000) never sits in memory.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Unpack, get_args
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from edge.console import messages
from edge.console.catalogue import Words
from edge.model import Entry, Outcome
from edge.store import Store
from edge.store.alarms import Alarm, AlarmBook
from edge.store.exports import EntryFilters, LedgerRow, LedgerTemperature, ledger_rows

CHUNK_ROWS = 1000
"""Rows per streamed chunk (about 110 KB of CSV)."""
FIRST_CHUNK_ROWS = 50
"""Rows of a CSV's first chunk: the download starts as soon as the first rows are read, not
after a full chunk (issue #15)."""
DISTINCT_CELLS = 4096
"""Answer and reason cells remembered: a gate asks the same questions, answered alike."""

REGISTER_HEADINGS: tuple[str, ...] = (
    "序号",
    "时间",
    "通道",
    "方向",
    "通行证号",
    "类别",
    "姓名",
    "住户",
    "体温(°C)",
    "问询",
    "结果",
    "原因",
    "值守人员",
    "备注",
)
FEVER_HEADINGS: tuple[str, ...] = (
    "序号",
    "时间",
    "姓名",
    "住户",
    "通行证号",
    "体温(°C)",
    "处置",
    "值守人员",
    "备注",
)
DIRECTIONS = {"in": "进", "out": "出"}

FeverDone = Literal["held", "not_confirmed", "overridden", "cleared"]
"""What the gate did about a fever case, said until someone acknowledges its alarm."""
FEVER_DONE_WORDS: Mapping[FeverDone, Words] = {
    done: messages.words(f"fevers.done.{done}") for done in get_args(FeverDone)
}
"""Each code's words (Chinese, English): the exports print the Chinese, a page its reader's."""
ACKED_AT_WORDS: Words = messages.words("fevers.acked_at")

# The catalogue's Chinese words by code, looked up once per cell in the export loop
# (``messages.term`` semantics: an unknown code shows as itself).
_KINDS = {code: words[0] for code, words in messages.table("kind").items()}
_OUTCOMES = {code: words[0] for code, words in messages.table("outcome").items()}
_REASONS = {code: words[0] for code, words in messages.table("reason").items()}

Cells = list[str | int]
Ledger = Literal["entries", "fever"]


def mask_phone(phone: str) -> str:
    """138****5678: a listed phone number shows only what a guard needs to recognise it."""
    digits = phone.strip()
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) >= 7 else "***"


class _LocalTime:
    """Decision times as the ledgers print them: local wall time of ``zone``, to the second.

    Rows come in time order, several a minute, so the text up to the minute is kept for the
    last UTC minute seen: ``strftime`` costs more than the rest of a row.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._minute: int | None = None
        self._prefix: str | None = None

    def __call__(self, decided_at_us: int) -> str:
        # Whole seconds first: zone offsets are whole seconds, so this is strftime's truncation.
        second = decided_at_us // 1_000_000
        minute, within = divmod(second, 60)
        if minute != self._minute:
            self._minute, self._prefix = minute, self._minute_prefix(minute)
        if self._prefix is None:
            return self._format(second)
        return self._prefix + _SECONDS[within]

    def _format(self, second: int) -> str:
        return datetime.fromtimestamp(second, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _minute_prefix(self, minute: int) -> str | None:
        """The text up to "HH:MM:" for every second of this UTC minute, or None if the local
        time does not move in step with it: the offset changes inside the minute (the same
        offset at both ends holds throughout: no zone changes twice in a minute) or has seconds
        (local mean time, before 1901 in Shanghai)."""
        first = datetime.fromtimestamp(minute * 60, self.zone)
        last = datetime.fromtimestamp(minute * 60 + 59, self.zone)
        offset = first.utcoffset()
        if offset is None or offset != last.utcoffset() or offset.seconds % 60:
            return None
        return first.strftime("%Y-%m-%d %H:%M:")


_SECONDS = [f"{second:02d}" for second in range(60)]


ANSWER_WORDS_ZH: Mapping[str, str] = {"yes": "是", "no": "否"}
ANSWER_WORDS_EN: Mapping[str, str] = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class LedgerNames:
    """What the office reads in place of the ids an entry stores: the policy's question texts,
    its answer words and the guards' names. An id without a name (a question since dropped
    from the policy, a guard removed) is shown as stored, so nothing is lost."""

    questions: Mapping[str, str] = field(default_factory=dict)
    answer_words: Mapping[str, str] = field(default_factory=dict)
    guards: Mapping[str, str] = field(default_factory=dict)

    def answers_cell(self) -> Callable[[tuple[tuple[str, str], ...]], str]:
        """The answers column, remembered per distinct answer list (a gate asks alike)."""

        @functools.lru_cache(maxsize=DISTINCT_CELLS)
        def cell(answers: tuple[tuple[str, str], ...]) -> str:
            return "；".join([self._answer(question, answer) for question, answer in answers])

        return cell

    def guard(self, guard_id: str | None) -> str:
        return "" if guard_id is None else self.guards.get(guard_id, guard_id)

    def _answer(self, question: str, answer: str) -> str:
        text = self.questions.get(question)
        word = self.answer_words.get(answer, answer)
        if text is None:
            return f"{question}={word}"
        if text.endswith("？"):
            return text + word
        return f"{text} {word}" if text.endswith("?") else f"{text}：{word}"


IDS_ONLY = LedgerNames()
"""No names known: questions and guards as stored (``question=answer``, the guard's id)."""


@functools.lru_cache(maxsize=DISTINCT_CELLS)
def _reasons(reasons: tuple[str, ...]) -> str:
    return "；".join([_REASONS.get(reason, reason) for reason in reasons])


IMPLAUSIBLE_MARK = "(非体温)"
"""After a reading that cannot be a body temperature (the sensor saw a cold sky, a hot wall):
the ledger keeps it as measured, and says it was not taken as anyone's temperature."""


def _temperatures(temperatures: tuple[LedgerTemperature, ...]) -> str:
    return " ".join(
        f"{t.body_c:.1f}{'(手持)' if t.manual else ''}{'' if t.plausible else IMPLAUSIBLE_MARK}"
        for t in temperatures
    )


# A temperature cell as ``_temperatures`` writes it: numbers only, even when the first reading is
# below zero (a thermometer that saw a winter sky), so a CSV keeps it as it is.
_READING = r"-?\d+\.\d(?:\(手持\))?(?:\(非体温\))?"
_READINGS = re.compile(rf"{_READING}(?: {_READING})*")


def register_rows(
    rows: Iterable[LedgerRow], zone: ZoneInfo, names: LedgerNames = IDS_ONLY
) -> Iterator[Cells]:
    """The register's cells for each row, in one loop (the export's hot path: locals only)."""
    local_time = _LocalTime(zone)
    directions, kinds, outcomes = DIRECTIONS, _KINDS, _OUTCOMES
    answers_cell, guard = names.answers_cell(), names.guard
    for (
        seq,
        decided_at_us,
        lane,
        direction,
        outcome,
        pass_id,
        pass_kind,
        holder,
        household,
        answers,
        temperatures,
        reasons,
        guard_id,
        guard_note,
    ) in rows:
        yield [
            seq,
            local_time(decided_at_us),
            lane,
            directions.get(direction, direction),
            pass_id or "",
            kinds.get(pass_kind, pass_kind) if pass_kind else "",
            holder or "",
            household or "",
            _temperatures(temperatures) if temperatures else "",
            answers_cell(answers),
            outcomes.get(outcome, outcome),
            _reasons(reasons),
            guard(guard_id),
            guard_note or "",
        ]


class FeverAcks:
    """Which acknowledged fever alarm belongs to which fever-ledger row.

    The rule raises a fever alarm (``fever``, or ``fever_unconfirmed`` for a person who left
    over the line) on the lane right after it records the entry, so an entry's alarm is the
    first one of that kind on the same lane raised from its decision time to ``LINK_S`` later
    that no earlier entry took. ``alarms`` must be oldest first; rows are asked in seq order."""

    LINK_S = 60.0
    EARLY_S = 1.0  # the console's clock and the lane's are one clock; a little slack anyway

    def __init__(self, alarms: Iterable[Alarm]) -> None:
        self._waiting: dict[tuple[str, str], list[Alarm]] = {}
        for alarm in alarms:
            self._waiting.setdefault((alarm.lane, alarm.kind), []).append(alarm)

    def take(self, row: LedgerRow) -> Alarm | None:
        """The alarm raised for ``row``'s entry, acknowledged or not; None if none was."""
        kind = "fever" if row.outcome == Outcome.FEVER.value else "fever_unconfirmed"
        if kind == "fever_unconfirmed" and FEVER_NOT_CONFIRMED not in row.reasons:
            return None
        waiting = self._waiting.get((row.lane, kind))
        decided_s = row.decided_at_us / 1_000_000
        while waiting:
            raised_s = waiting[0].raised_at.timestamp()
            if raised_s < decided_s - self.EARLY_S:
                waiting.pop(0)  # raised before this entry: its own entry is not in the ledger
                continue
            return waiting.pop(0) if raised_s <= decided_s + self.LINK_S else None
        return None


FEVER_NOT_CONFIRMED = "fever_not_confirmed"
"""The reason the rule gives a person over the line who left before the re-measure."""


@dataclass(frozen=True, slots=True)
class FeverHandling:
    """What was done about one fever case, as codes and what people wrote: worded where it is
    shown (the exports in Chinese, for the street office; a page in its reader's language)."""

    done: FeverDone
    """What the gate did."""
    ack_note: str | None
    """What the one who acknowledged the case's alarm wrote; None while nobody has."""
    guard_id: str | None
    """Who acknowledged the alarm, else the entry's guard."""
    acked_at: datetime | None
    entry_note: str | None
    """The note the guard wrote on the entry itself."""

    @property
    def open(self) -> bool:
        """A fever the gate could not settle (confirmed, or never re-measured) whose alarm
        nobody has acknowledged yet."""
        return self.acked_at is None and self.done in ("held", "not_confirmed")


def fever_done(row: LedgerRow) -> FeverDone:
    """What the gate did about ``row``, a fever case. A case that neither a re-measure nor a
    guard's override settled counts as not confirmed: the ledger never says it was cleared."""
    if row.outcome == Outcome.FEVER.value:
        return "held"
    if row.outcome == Outcome.PASSED.value:
        return "cleared"
    if row.outcome == Outcome.OVERRIDDEN.value and FEVER_NOT_CONFIRMED not in row.reasons:
        return "overridden"  # after a confirmed fever: the guard's decision, with their note
    return "not_confirmed"


def fever_cases(
    rows: Iterable[LedgerRow],
    zone: ZoneInfo,
    names: LedgerNames = IDS_ONLY,
    acks: FeverAcks | None = None,
) -> Iterator[tuple[FeverHandling, Cells]]:
    """Each fever case (pass it the fever cases only) with what was done and its cells.

    What was done and by whom come from the guard's acknowledgement of the entry's alarm
    (``acks``): its note, the guard who gave it, and when; the entry's own guard and note stay
    where there was none. The cells are the exports', in Chinese."""
    local_time = _LocalTime(zone)
    acks = acks or FeverAcks(())
    for row in rows:
        alarm = acks.take(row)
        acked = alarm if alarm is not None and alarm.acked_at is not None else None
        handling = FeverHandling(
            done=fever_done(row),
            ack_note=None if acked is None else acked.ack_note,
            guard_id=(acked and acked.acked_by) or row.guard_id,
            acked_at=None if acked is None else acked.acked_at,
            entry_note=row.guard_note,
        )
        notes = [row.guard_note or ""]
        if handling.acked_at is not None:
            at = handling.acked_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            notes.append(ACKED_AT_WORDS[0].format(at=at))
        yield (
            handling,
            [
                row.seq,
                local_time(row.decided_at_us),
                row.holder or "",
                row.household or "",
                row.pass_id or "",
                _temperatures(row.temperatures),
                handling.ack_note or FEVER_DONE_WORDS[handling.done][0],
                names.guard(handling.guard_id),
                "；".join(note for note in notes if note),
            ],
        )


def fever_rows(
    rows: Iterable[LedgerRow],
    zone: ZoneInfo,
    names: LedgerNames = IDS_ONLY,
    acks: FeverAcks | None = None,
) -> Iterator[Cells]:
    """The fever ledger's cells for each row, as ``fever_cases`` makes them."""
    return (cells for _, cells in fever_cases(rows, zone, names, acks))


def register_row(entry: Entry, zone: ZoneInfo, names: LedgerNames = IDS_ONLY) -> Cells:
    """One entry already decoded as a register row (the log page): the export's formatting."""
    return next(register_rows((LedgerRow.of(entry),), zone, names))


def export_rows(
    store: Store,
    ledger: Ledger,
    zone: ZoneInfo,
    names: LedgerNames = IDS_ONLY,
    **filters: Unpack[EntryFilters],
) -> tuple[tuple[str, ...], Iterator[Cells]]:
    """The headings and the rows of ``ledger`` (the register or the fever ledger), filtered
    as the log page filters.

    The rows are read lazily: nothing touches the store until the first row is asked for.
    """
    fever = ledger == "fever"
    rows = ledger_rows(store, fever_cases=fever, **filters)
    if fever:
        return FEVER_HEADINGS, _fever_ledger(store, rows, zone, names, filters)
    return REGISTER_HEADINGS, register_rows(rows, zone, names)


def _fever_ledger(
    store: Store,
    rows: Iterable[LedgerRow],
    zone: ZoneInfo,
    names: LedgerNames,
    filters: EntryFilters,
) -> Iterator[Cells]:
    """The fever ledger's cells, each row with its alarm's acknowledgement; the alarms of the
    window are read when the first row is asked for, like the rows."""
    since, until = filters.get("since"), filters.get("until")
    alarms = AlarmBook(store).each_event_alarms(
        since=None if since is None else since - timedelta(seconds=FeverAcks.EARLY_S),
        until=None if until is None else until + timedelta(seconds=FeverAcks.LINK_S),
    )
    yield from fever_rows(rows, zone, names, FeverAcks(alarms))


# OWASP's "CSV injection": Excel and WPS run a cell that starts with one of these as a formula
# (=HYPERLINK(...) sends the clerk away, DDE runs a program). Names, households, answers and
# notes are typed in by people, so such a text cell gets a leading "'" (OWASP's advice): the
# spreadsheet shows it as text, the quote included.
CSV_FORMULA_STARTS = frozenset("=+-@\t\r")


def _csv_text(cell: str) -> str:
    """``cell`` as a CSV carries it safely: text a spreadsheet would run as a formula made
    inert; numbers (a reading below zero) and any other text as they are."""
    if cell[:1] in CSV_FORMULA_STARTS and not _READINGS.fullmatch(cell):
        return "'" + cell
    return cell


def _csv_cells(row: Sequence[str | int]) -> Sequence[str | int]:
    # One pass over the first characters: almost no row has a cell to change.
    for cell in row:
        if isinstance(cell, str) and cell[:1] in CSV_FORMULA_STARTS:
            return [_csv_text(cell) if isinstance(cell, str) else cell for cell in row]
    return row


def csv_chunks(headings: Iterable[str], rows: Iterable[Cells]) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel on a Chinese Windows opens the headings correctly; no text
    cell can become a formula (``_csv_text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(list(headings))
    rows = iter(rows)
    size = FIRST_CHUNK_ROWS
    while batch := list(itertools.islice(rows, size)):
        writer.writerows(map(_csv_cells, batch))
        if len(batch) == size:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        size = CHUNK_ROWS
    if rest := buffer.getvalue():
        yield rest.encode("utf-8")


# ------------------------------------------------------------------------------------- XLSX
# A minimal SpreadsheetML package (ECMA-376 part 1) written straight to a streamed zip: openpyxl,
# even in write-only mode, spends about 0.6 ms a row building cell objects, which is most of a
# month's export. Strings are inline (no shared-string table to hold in memory), every cell is
# text except the sequence number, and nothing ever becomes a formula: a cell is a formula only
# when written as <f>, which this writer never writes, so a note that starts with "=" stays the
# note, with no quote added (unlike the CSV).

XLSX_MAX_ROWS = 1_048_576
"""Rows in one Excel sheet; a longer export continues on the next sheet, headings repeated."""
XLSX_MAX_TEXT = 32_767
"""Characters Excel holds in one cell; openpyxl cut longer text to this too."""

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (
    f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# Headings frozen on top, as openpyxl's freeze_panes = "A2" writes them.
_SHEET_START = (
    f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
    "<sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"
# Characters XML 1.0 cannot carry (openpyxl refused them and the export failed) are shown as
# U+FFFD; markup characters are escaped.
_XML_UNSAFE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPACES = " \t\n\r"


def _xml_text(match: re.Match[str]) -> str:
    return _XML_ESCAPES.get(match.group(), "\ufffd")


def _column_letters(count: int) -> list[str]:
    letters = []
    for index in range(1, count + 1):
        name = ""
        while index:
            index, remainder = divmod(index - 1, 26)
            name = chr(ord("A") + remainder) + name
        letters.append(name)
    return letters


def _row_writer(columns: int) -> Callable[[int, Sequence[str | int]], str]:
    """A function making one ``<row>`` of the sheet; the per-column markup is built once."""
    openings = [f'<c r="{letter}' for letter in _column_letters(columns)]

    def sheet_row(number: int, row: Sequence[str | int]) -> str:
        r = str(number)
        texts = "".join([value for value in row if isinstance(value, str)])
        # One look at the whole row: almost every row needs no escaping and no cut.
        unsafe = _XML_UNSAFE.search(texts) is not None
        long = len(texts) > XLSX_MAX_TEXT
        cells = []
        for opening, value in zip(openings, row, strict=True):
            if not isinstance(value, str):
                cells.append(f'{opening}{r}" t="n"><v>{value}</v></c>')
            elif value:
                text = value[:XLSX_MAX_TEXT] if long else value
                if unsafe:
                    text = _XML_UNSAFE.sub(_xml_text, text)
                # Excel drops leading and trailing spaces unless told to keep them.
                space = ' xml:space="preserve"' if text[0] in _SPACES or text[-1] in _SPACES else ""
                cells.append(f'{opening}{r}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:  # empty, still written (as openpyxl did): streaming readers keep the width
                cells.append(f'{opening}{r}"/>')
        return f'<row r="{r}">{"".join(cells)}</row>'

    return sheet_row


class _Sink:
    """An unseekable file for ``zipfile``: collects what it writes until the stream takes it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the stream takes the bytes."""

    def close(self) -> None:
        """Nothing to close: the bytes left are taken after the zip is closed."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _workbook_parts(title: str, sheets: int) -> dict[str, str]:
    """The workbook, its relationships and the content types, once the sheet count is known."""
    names = [title if number == 1 else f"{title} ({number})" for number in range(1, sheets + 1)]
    entries = "".join(
        f'<sheet name={_attribute(name[:31])} sheetId="{number}" r:id="rId{number}"/>'
        for number, name in enumerate(names, 1)
    )
    relations = "".join(
        f'<Relationship Id="rId{number}" Type="{_REL_NS}/worksheet" '
        f'Target="worksheets/sheet{number}.xml"/>'
        for number in range(1, sheets + 1)
    )
    styles = f'<Relationship Id="rId{sheets + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    ooxml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{number}.xml" '
        f'ContentType="{ooxml}.worksheet+xml"/>'
        for number in range(1, sheets + 1)
    )
    return {
        "xl/workbook.xml": (
            f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{entries}</sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{relations}{styles}'
            "</Relationships>"
        ),
        "[Content_Types].xml": (
            f"{_XML_DECLARATION}"
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ooxml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ooxml}.styles+xml"/>'
            f"{overrides}</Types>"
        ),
    }


def _attribute(value: str) -> str:
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def xlsx_chunks(
    title: str, headings: Sequence[str], rows: Iterable[Cells], *, max_rows: int = XLSX_MAX_ROWS
) -> Iterator[bytes]:
    """An .xlsx file in chunks: a sheet named ``title`` with the headings frozen on top (and
    more sheets past ``max_rows``).

    The zip is written as the rows come (its entries carry data descriptors, as any streamed
    zip does), so memory stays flat; the workbook part, which lists the sheets, comes last.
    What comes before the rows is the first chunk, sent before a row is read: the compressor
    gives nothing back for the first hundreds of rows, and the download should start at once.
    """
    sheet_row = _row_writer(len(headings))
    sheet_start = _SHEET_START + sheet_row(1, list(headings))
    sink = _Sink()
    # Level 1: the sheet XML is repetitive enough that stronger levels save little and cost
    # the Pi time.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        sheets = 1
        sheet = book.open("xl/worksheets/sheet1.xml", "w")
        try:
            yield sink.take()
            pending = [sheet_start]
            number = 1  # the row last written: the headings
            for row in rows:
                if number == max_rows:
                    sheet.write(("".join(pending) + _SHEET_END).encode("utf-8"))
                    sheet.close()
                    sheets += 1
                    sheet = book.open(f"xl/worksheets/sheet{sheets}.xml", "w")
                    pending = [sheet_start]
                    number = 1
                number += 1
                pending.append(sheet_row(number, row))
                if len(pending) >= CHUNK_ROWS:
                    sheet.write("".join(pending).encode("utf-8"))
                    pending.clear()
                    if chunk := sink.take():  # empty while the compressor still holds it all
                        yield chunk
        except GeneratorExit:  # the download was abandoned: the zip cannot close on an open sheet
            sheet.close()
            raise
        sheet.write(("".join(pending) + _SHEET_END).encode("utf-8"))
        sheet.close()
        for name, text in _workbook_parts(title, sheets).items():
            book.writestr(name, text)
    yield sink.take()


# ------------------------------------------------------------------------------ daily report


def hourly_counts(store: Store, day_start: datetime) -> dict[str, list[int]]:
    """Entries per local hour of one day, per outcome (the daily report, 日报)."""
    counts: dict[str, list[int]] = {o.value: [0] * 24 for o in Outcome}
    for row in ledger_rows(store, since=day_start, until=day_start + timedelta(days=1)):
        hour = datetime.fromtimestamp(row.decided_at_us // 1_000_000, day_start.tzinfo).hour
        counts[row.outcome][hour] += 1
    return counts
