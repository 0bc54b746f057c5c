"""The stored columns a ledger shows, read straight from the log for exports.

A month of entries is about 324 000 rows. Decoding each into an ``Entry`` costs about 0.1 ms
(the strict document check in ``records``), which alone made a month's export take a minute; a
ledger needs only 14 columns, so these are read as they are stored, and of the three JSON
columns only what a ledger shows is kept. Every row was written from a checked entry
(``record_entry``), so the strict check would add nothing here.

The rows come from a connection of their own, opened read-only for the walk: with WAL a reader
never blocks the writer, so the lanes go on recording (and opening) during an export, and the
whole export sees one snapshot of the log.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Unpack

from edge.entry_document import epoch_us
from edge.model import Entry
from edge.store import (
    DEFAULT_BUSY_TIMEOUT_MS,
    Store,
    StoreCorrupt,
    _corruption_as_store_corrupt,
)
from edge.store import EntryFilters as EntryFilters  # re-exported: the console takes it from here
from edge.store.records import SqlValue

FETCH_ROWS = 1000
"""Rows taken from SQLite at a time: memory stays flat whatever the range."""

_DECODER = json.JSONDecoder()
_DISTINCT_TEXTS = 4096
"""Distinct answer and reason lists remembered: a gate asks the same questions, answered alike."""


@functools.lru_cache(maxsize=_DISTINCT_TEXTS)
def _answers(text: str) -> tuple[tuple[str, str], ...]:
    # raw_decode: the C scanner without loads' extra calls and whitespace checks (the stored
    # JSON is compact).
    return tuple(_DECODER.raw_decode(text)[0].items())


@functools.lru_cache(maxsize=_DISTINCT_TEXTS)
def _reasons(text: str) -> tuple[str, ...]:
    return tuple(_DECODER.raw_decode(text)[0])


class LedgerTemperature(NamedTuple):
    """What a ledger shows of one reading: the body temperature, whether it was typed in, and
    whether it could be a body temperature at all (a winter sky reads 20 °C: not a person)."""

    body_c: float
    manual: bool
    plausible: bool = True


class LedgerRow(NamedTuple):
    """One entry as the ledgers see it: stored values, codes not yet translated."""

    seq: int
    decided_at_us: int
    """Decision time, microseconds since the Unix epoch (UTC)."""
    lane: str
    direction: str
    outcome: str
    pass_id: str | None
    pass_kind: str | None
    holder: str | None
    household: str | None
    answers: tuple[tuple[str, str], ...]
    temperatures: tuple[LedgerTemperature, ...]
    reasons: tuple[str, ...]
    guard_id: str | None
    guard_note: str | None

    @classmethod
    def of(cls, entry: Entry) -> LedgerRow:
        """The row of an entry already decoded (the log page shows 50 at a time)."""
        draft = entry.draft
        return cls(
            seq=entry.seq,
            decided_at_us=epoch_us(draft.decided_at),
            lane=draft.lane,
            direction=draft.direction.value,
            outcome=draft.outcome.value,
            pass_id=draft.pass_id,
            pass_kind=None if draft.pass_kind is None else draft.pass_kind.value,
            holder=draft.holder,
            household=draft.household,
            answers=draft.answers,
            temperatures=tuple(
                LedgerTemperature(t.body_c, t.reading.manual, t.plausible)
                for t in draft.temperatures
            ),
            reasons=draft.reasons,
            guard_id=draft.guard_id,
            guard_note=draft.guard_note,
        )


_COLUMNS = (
    "seq, decided_at_us, lane, direction, outcome, pass_id, pass_kind, holder, household, "
    "answers, temperatures, reasons, guard_id, guard_note"
)
# The fever ledger: a fever outcome, or any reading at or over the line (the stored flag).
_FEVER_CASE = (
    "(outcome = 'fever' OR EXISTS "
    "(SELECT 1 FROM json_each(temperatures) WHERE json_extract(value, '$.fever') = 1))"
)


def _query(
    store: Store, fever_cases: bool, **filters: Unpack[EntryFilters]
) -> tuple[str, list[SqlValue]]:
    """``Store.entries``' own filters (time bounds become seq bounds), in one statement."""
    clauses = store.entry_filters(**filters)
    if fever_cases:
        clauses.append((_FEVER_CASE, ()))
    where = " AND ".join(clause for clause, _ in clauses)
    params = [value for _, values in clauses for value in values]
    # The clauses are fixed strings; every value is a bound parameter.
    return f"SELECT {_COLUMNS} FROM entries WHERE {where} ORDER BY seq", params  # noqa: S608


def _read_connection(store: Store) -> sqlite3.Connection:
    """A read-only connection to the store's file, used by one walk and closed after it."""
    target = f"file:{urllib.request.pathname2url(str(store.path.absolute()))}?mode=ro"
    conn = sqlite3.connect(
        target,
        uri=True,
        # A streamed response pulls each chunk on whichever worker thread is free; the walk
        # alone uses this connection, one chunk at a time.
        check_same_thread=False,
        isolation_level=None,
        timeout=DEFAULT_BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute("PRAGMA query_only = ON")
    return conn


@contextlib.contextmanager
def _malformed_json_as_store_corrupt(path: Path) -> Iterator[None]:
    """SQLite's own JSON functions meeting a damaged column: the row is damaged, not the query."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "JSON" in str(exc):
            raise StoreCorrupt(f"{path}: an entry's JSON is unreadable: {exc}") from exc
        raise


def ledger_rows(
    store: Store, *, fever_cases: bool = False, **filters: Unpack[EntryFilters]
) -> Iterator[LedgerRow]:
    """This gate's entries matching ``filters`` in seq order, as ledger rows.

    ``fever_cases`` keeps the fever ledger's rows only: a fever outcome or any reading flagged
    as fever. Raises ``StoreCorrupt`` for a row whose JSON is unreadable.
    """
    sql, params = _query(store, fever_cases, **filters)
    decode, make_row, reading = _DECODER.raw_decode, LedgerRow._make, LedgerTemperature
    with _corruption_as_store_corrupt(store.path), _malformed_json_as_store_corrupt(store.path):
        conn = _read_connection(store)
        try:
            cursor = conn.execute(sql, params)
            while batch := cursor.fetchmany(FETCH_ROWS):
                for row in batch:
                    try:
                        answers = _answers(row[9])
                        # Every reading is stored with its own time: no two alike, no cache.
                        temperatures = tuple(
                            [
                                reading(t["body_c"], t["manual"], t["plausible"])
                                for t in decode(row[10])[0]
                            ]
                        )
                        reasons = _reasons(row[11])
                    except (ValueError, TypeError, KeyError, AttributeError) as exc:
                        raise StoreCorrupt(f"entry seq {row[0]} is unreadable: {exc}") from exc
                    yield make_row((*row[:9], answers, temperatures, reasons, row[12], row[13]))
        finally:
            conn.close()
